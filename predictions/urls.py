from django.urls import path

from . import views

app_name = "predictions"

urlpatterns = [
    path("", views.prediction_list, name="list"),
    path("new/", views.prediction_new, name="new"),
    path("new/fields/", views.prediction_new_fields, name="new_fields"),
    path("compare/", views.compare_new, name="compare"),
    path("compare/<uuid:group>/", views.compare_detail, name="compare_detail"),
    path("<int:pk>/", views.prediction_detail, name="detail"),
    path("<int:pk>/rerun/", views.prediction_rerun, name="rerun"),
    path("<int:pk>/live/", views.prediction_live, name="live"),
    path("<int:pk>/cancel/", views.prediction_cancel, name="cancel"),
    path("<int:pk>/outputs/<int:index>/", views.output_file, name="output"),
    path("<int:pk>/outputs/<int:index>/thumbnail/", views.output_thumbnail, name="thumbnail"),
    path("<int:pk>/inputs/<int:image_id>/", views.prediction_input_file, name="input"),
]
