"""A prediction's webhook (one per prediction), what is due to be sent of it, every attempt
at sending it, and each member's signing-key salt.

A webhook's URL may carry credentials, so it is stored encrypted (`keys.url_encrypt`) and only
its host is kept readable, for pages. No signing secret is stored: it is derived from the
member's salt (`keys.signing_secret`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    """Replicate's webhook events (`webhook_events_filter`): names of its API, shown as they are."""

    START = "start", "start"
    OUTPUT = "output", "output"
    LOGS = "logs", "logs"
    COMPLETED = "completed", "completed"


class WebhookSubscription(models.Model):
    prediction = models.OneToOneField("predictions.Prediction", on_delete=models.CASCADE, related_name="webhook")
    # Whose signing secret signs its deliveries: the prediction's owner.
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    url_encrypted = models.TextField()
    host = models.CharField(_("host"), max_length=255)
    events = models.JSONField(_("events"), default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return f"{self.prediction_id} → {self.host}"


class WebhookOutbox(models.Model):
    """What is due to be sent of one event kind of a subscription: at most one message at a time.

    `due_at` is set while a message is due or being sent (then it is the sender's lease) and
    None otherwise. Each event bumps `version`; a sender that saw an older version when it
    claimed the row sends again afterwards, so events that arrive while one is pending
    coalesce into that one, and none is left unsent. `message_id` is the message's
    `webhook-id`, the same on its retries.
    """

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="outbox")
    event = models.CharField(max_length=10, choices=Event.choices)
    due_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    message_id = models.UUIDField(default=uuid.uuid4)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="webhook_outbox_unique_event")]
        indexes = [models.Index(fields=["due_at"], condition=models.Q(due_at__isnull=False), name="webhook_due_idx")]

    def __str__(self) -> str:
        return f"{self.subscription_id}/{self.event}"


class Outcome(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    RETRYING = "retrying", _("Will try again")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One attempt at sending a message: its answer's status code, or the class of the error
    that stopped it. Never the URL, never the answer's body."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=10, choices=Event.choices)
    message_id = models.UUIDField()
    attempt = models.PositiveIntegerField(_("attempt"))
    at = models.DateTimeField(_("time"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=100, blank=True, default="")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["subscription", "-at"])]

    def __str__(self) -> str:
        return f"{self.subscription_id}/{self.event}#{self.attempt}"


class WebhookSigningKey(models.Model):
    """A member's random salt: their signing secret is derived from it and SECRET_KEY, and
    rotating it (a new salt) changes the secret."""

    member = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_key")
    salt = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook signing key")
        verbose_name_plural = _("webhook signing keys")

    def __str__(self) -> str:
        return str(self.member_id)
