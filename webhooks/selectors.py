"""Reads of webhooks for pages: a prediction's webhook and its deliveries, a member's recent deliveries."""

from __future__ import annotations

from django.db.models import QuerySet

from webhooks.models import WebhookDelivery, WebhookSigningKey, WebhookSubscription

PREDICTION_DELIVERIES = 100
MEMBER_DELIVERIES = 50


def subscription_of(prediction_id: int) -> WebhookSubscription | None:
    return WebhookSubscription.objects.filter(prediction_id=prediction_id).first()


def subscription_deliveries(subscription: WebhookSubscription) -> list[WebhookDelivery]:
    """Its latest attempts, newest first."""
    return list(subscription.deliveries.order_by("-at", "-pk")[:PREDICTION_DELIVERIES])


def member_deliveries(member_id: int) -> QuerySet[WebhookDelivery]:
    """The member's latest attempts across their predictions, newest first, with their webhook."""
    return (
        WebhookDelivery.objects.filter(subscription__member_id=member_id)
        .select_related("subscription")
        .order_by("-at", "-pk")[:MEMBER_DELIVERIES]
    )


def signing_key_rotated_at(member_id: int):
    """When the member's secret was last rotated (None: never, or no secret yet)."""
    return WebhookSigningKey.objects.filter(member_id=member_id).values_list("rotated_at", flat=True).first()
