from django.urls import path

from . import gallery_views

app_name = "gallery"

urlpatterns = [
    path("", gallery_views.gallery, name="list"),
    path("<int:pk>/", gallery_views.gallery_detail, name="detail"),
    path("<int:pk>/private/", gallery_views.prediction_private, name="private"),
]
