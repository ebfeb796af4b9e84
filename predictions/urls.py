"""Predictions (/predictions/), the prompt library (/prompts/), the input images DeerAPI
fetches (/inputs/<token>/, no login) and the outputs at signed URLs (/outputs/…, no login)."""

from django.urls import path

from . import views

prediction_patterns = (
    [
        path("", views.prediction_list, name="list"),
        path("new/", views.prediction_new, name="new"),
        path("download/", views.predictions_download, name="download"),
        path("new/fields/", views.prediction_new_fields, name="new_fields"),
        path("new/cost/", views.prediction_new_cost, name="new_cost"),
        path("compare/", views.compare_new, name="compare"),
        path("compare/<uuid:group>/", views.compare_detail, name="compare_detail"),
        path("<int:pk>/", views.prediction_detail, name="detail"),
        path("<int:pk>/rerun/", views.prediction_rerun, name="rerun"),
        path("<int:pk>/live/", views.prediction_live, name="live"),
        path("<int:pk>/cancel/", views.prediction_cancel, name="cancel"),
        path("<int:pk>/outputs/<int:index>/", views.output_file, name="output"),
        path("<int:pk>/outputs/<int:index>/thumbnail/", views.output_thumbnail, name="thumbnail"),
        path("<int:pk>/inputs/<int:image_id>/", views.prediction_input_file, name="input"),
    ],
    "predictions",
)

prompt_patterns = (
    [
        path("", views.prompt_list, name="list"),
        path("save/", views.prompt_save_from_prediction, name="save_from_prediction"),
        path("<int:pk>/", views.prompt_detail, name="detail"),
        path("<int:pk>/rename/", views.prompt_rename, name="rename"),
        path("<int:pk>/remove/", views.prompt_forget, name="forget"),
    ],
    "prompts",
)

input_patterns = [path("<uuid:token>/", views.input_image_file, name="input_image")]

# DeerAPI's calls as predictions end (predictions.hints; no login, the signed URL is the key).
hint_patterns = [path("<str:token>/", views.deerapi_hint, name="deerapi_hint")]

# Stored outputs at the signed, expiring URLs the API hands out (no login).
signed_output_patterns = [
    path("<str:signature>/<str:name>", views.signed_output_file, name="signed_output"),
]
