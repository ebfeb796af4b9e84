"""Webhook deliveries in the admin site: read only, and never the URL (only its host)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from webhooks.models import WebhookDelivery


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("at", "prediction", "host", "event", "attempt", "status_code", "error", "outcome")
    list_filter = ("outcome", "event")
    list_select_related = ("subscription",)
    search_fields = ("=subscription__prediction__id",)
    date_hierarchy = "at"
    fields = ("at", "prediction", "host", "event", "message_id", "attempt", "status_code", "error", "outcome")
    readonly_fields = fields

    @admin.display(description=_("prediction"), ordering="subscription__prediction_id")
    def prediction(self, delivery: WebhookDelivery) -> int:
        return delivery.subscription.prediction_id

    @admin.display(description=_("host"))
    def host(self, delivery: WebhookDelivery) -> str:
        return delivery.subscription.host

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False
