"""Collections (/collections/) and share links' pages (/s/<token>/, no login)."""

from django.urls import path

from . import views

collection_patterns = (
    [
        path("", views.collection_list, name="list"),
        path("add/", views.collection_add, name="add"),
        path("<int:pk>/", views.collection_detail, name="detail"),
        path("<int:pk>/edit/", views.collection_edit, name="edit"),
        path("<int:pk>/delete/", views.collection_delete, name="delete"),
        path("<int:pk>/remove/", views.collection_item_remove, name="remove"),
        path("<int:pk>/download/", views.collection_download, name="download"),
        path("<int:pk>/links/", views.share_link_create, name="share"),
        path("<int:pk>/links/<int:link_id>/revoke/", views.share_link_revoke, name="revoke"),
    ],
    "collections",
)

share_patterns = (
    [
        path("<str:token>/", views.share_page, name="page"),
        path("<str:token>/<int:item_id>/", views.share_image, name="image"),
        path("<str:token>/<int:item_id>/thumbnail/", views.share_thumbnail, name="thumbnail"),
    ],
    "share",
)
