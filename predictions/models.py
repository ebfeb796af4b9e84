from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A DeerWeb team member. Custom from the first migration so it can grow."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Prompt(models.Model):
    """The text a member wrote; several predictions can share one prompt."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prompts")
    text = models.TextField(_("prompt"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("prompt")
        verbose_name_plural = _("prompts")
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.text[:80]


class Status(models.TextChoices):
    """Our own status of a prediction. Transitions live in `TRANSITIONS`."""

    QUEUED = "queued", _("Queued")
    SUBMITTING = "submitting", _("Sending to DeerAPI")
    STARTING = "starting", _("Starting")
    PROCESSING = "processing", _("Processing")
    STORING = "storing", _("Saving images")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")
    UNKNOWN = "unknown", _("Outcome unknown")


# Which status may follow which. Terminal statuses have no way out; `unknown`
# is left only by an admin resolving it.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.QUEUED: frozenset({Status.SUBMITTING, Status.FAILED, Status.CANCELED}),
    Status.SUBMITTING: frozenset(
        {Status.QUEUED, Status.STARTING, Status.PROCESSING, Status.STORING, Status.FAILED,
         Status.CANCELED, Status.UNKNOWN}
    ),
    Status.STARTING: frozenset({Status.PROCESSING, Status.STORING, Status.FAILED, Status.CANCELED}),
    Status.PROCESSING: frozenset({Status.STORING, Status.FAILED, Status.CANCELED}),
    Status.STORING: frozenset({Status.SUCCEEDED, Status.FAILED}),
    Status.UNKNOWN: frozenset({Status.FAILED, Status.SUCCEEDED}),
    Status.SUCCEEDED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELED: frozenset(),
}
TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED})
# Statuses the pipeline still works on (the sweep watches these).
ACTIVE = frozenset({Status.QUEUED, Status.SUBMITTING, Status.STARTING, Status.PROCESSING, Status.STORING})
# At DeerAPI and worth polling.
REMOTE = frozenset({Status.STARTING, Status.PROCESSING})


def can_transition(old: str, new: str) -> bool:
    return new in TRANSITIONS[old]


class Prediction(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="predictions"
    )
    prompt = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="predictions")
    model_id = models.CharField(_("model"), max_length=200)
    input = models.JSONField(_("input sent"), default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    deerapi_id = models.CharField(_("DeerAPI id"), max_length=100, blank=True, default="")
    error = models.TextField(blank=True, default="")
    logs = models.TextField(blank=True, default="")
    metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When the worker should next look at this row (submit retry, poll, download
    # retry); the beat sweep re-enqueues rows whose time has passed.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_count = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    remote_output = models.JSONField(_("output URLs from DeerAPI"), default=list, blank=True)

    class Meta:
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status", "next_poll_at"]),
            models.Index(fields=["deerapi_id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.model_id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("predictions:detail", args=[self.pk])

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def duration(self) -> float | None:
        """Seconds from saving to finishing (or to now, while running)."""
        end = self.completed_at or timezone.now()
        return (end - self.created_at).total_seconds()


class PredictionOutput(models.Model):
    prediction = models.ForeignKey(Prediction, on_delete=models.CASCADE, related_name="outputs")
    index = models.PositiveSmallIntegerField()
    source_url = models.URLField(max_length=2000)
    file = models.FileField(upload_to="outputs/%Y/%m/", max_length=300)
    thumbnail = models.FileField(upload_to="thumbs/%Y/%m/", max_length=300, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    checksum = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("output")
        verbose_name_plural = _("outputs")
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["prediction", "index"], name="unique_output_index"),
        ]

    def __str__(self) -> str:
        return f"{self.prediction_id}/{self.index}"

    @property
    def extension(self) -> str:
        return {
            "image/png": "png",
            "image/jpeg": "jpg",
            "image/webp": "webp",
            "image/gif": "gif",
            "image/svg+xml": "svg",
        }.get(self.content_type, "bin")
