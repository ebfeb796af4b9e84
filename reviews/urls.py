"""The review queue (/review/) and the team gallery (/gallery/)."""

from django.urls import path

from . import views

review_patterns = (
    [
        path("", views.review_queue, name="queue"),
        path("decide/", views.review_decide, name="decide"),
        path("<int:pk>/delete-files/", views.prediction_files_delete, name="delete_files"),
    ],
    "review",
)

gallery_patterns = (
    [
        path("", views.gallery, name="list"),
        path("<int:pk>/", views.gallery_detail, name="detail"),
        path("<int:pk>/private/", views.prediction_private, name="private"),
    ],
    "gallery",
)
