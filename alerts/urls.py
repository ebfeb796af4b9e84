from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("settings/", views.alert_settings, name="settings"),
]
