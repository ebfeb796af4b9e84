"""A member's webhooks page (/webhooks/): recent deliveries and the signing secret's rotation."""

from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.webhooks_mine, name="mine"),
    path("secret/rotate/", views.webhook_secret_rotate, name="secret_rotate"),
]
