from django.urls import path

from . import review_views

app_name = "review"

urlpatterns = [
    path("", review_views.review_queue, name="queue"),
    path("decide/", review_views.review_decide, name="decide"),
    path("<int:pk>/delete-files/", review_views.prediction_files_delete, name="delete_files"),
]
