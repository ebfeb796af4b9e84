"""The Replicate-compatible API, at DeerAPI's own layout (/replicate/v1/…)."""

from django.urls import path, re_path

from . import openapi, views

app_name = "api"

urlpatterns = [
    path("v1/openapi.json", openapi.openapi_json, name="openapi"),
    path("v1/predictions", views.predictions, name="predictions"),
    re_path(r"^v1/predictions/(?P<pk>[^/]+)$", views.prediction, name="prediction"),
    re_path(r"^v1/predictions/(?P<pk>[^/]+)/cancel$", views.prediction_cancel, name="prediction_cancel"),
    path("v1/models", views.models, name="models"),
    re_path(r"^v1/models/(?P<model>.+)/predictions$", views.model_predictions, name="model_predictions"),
    re_path(r"^v1/models/(?P<model>.+)/versions/(?P<version>[^/]+)$", views.model_version, name="model_version"),
    re_path(r"^v1/models/(?P<model>.+)/versions$", views.model_versions, name="model_versions"),
    re_path(r"^v1/models/(?P<model>.+)$", views.model, name="model"),
    path("v1/account", views.account, name="account"),
    path("v1/webhooks/default/secret", views.webhook_secret, name="webhook_secret"),
    path("v1/files", views.files, name="files"),
    re_path(r"^v1/files/(?P<pk>[^/]+)$", views.file, name="file"),
    re_path(r"^", views.unknown, name="unknown"),  # anything else: a JSON 404, not the site's page
]
