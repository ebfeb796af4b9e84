from __future__ import annotations

import uuid
from decimal import Decimal

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
    """The text a member wrote; several predictions can share one prompt.

    A prompt with a `name` is in the member's prompt library.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prompts")
    text = models.TextField(_("prompt"))
    name = models.CharField(_("name"), max_length=120, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("prompt")
        verbose_name_plural = _("prompts")
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["owner", "name"], name="prompt_library_idx", condition=~models.Q(name="")),
        ]

    def __str__(self) -> str:
        return self.name or self.text[:80]


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
        {
            Status.QUEUED,
            Status.STARTING,
            Status.PROCESSING,
            Status.STORING,
            Status.FAILED,
            Status.CANCELED,
            Status.UNKNOWN,
        }
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
# Can still be canceled: at DeerAPI, or on its way there.
CANCELABLE = frozenset({Status.SUBMITTING, *REMOTE})


def can_transition(old: str, new: str) -> bool:
    return new in TRANSITIONS[old]


class Via(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")


class ReviewState(models.TextChoices):
    PENDING = "pending", _("Not reviewed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Prediction(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="predictions")
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
    # A cancel asked for while the create was on its way to DeerAPI: the pipeline cancels the
    # prediction there as soon as DeerAPI has answered with its id (or does not send it again).
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    remote_output = models.JSONField(_("output URLs from DeerAPI"), default=list, blank=True)
    # The seed DeerAPI reports having used (from its logs), when it does.
    seed = models.BigIntegerField(null=True, blank=True)
    # "Run again" / "Edit and run" remember where a prediction came from;
    # predictions made together by "Compare" share a group.
    source = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns")
    compare_group = models.UUIDField(null=True, blank=True)

    # Money. The price per image is copied at submit so later
    # price changes never rewrite history.
    price = models.DecimalField(_("price per image"), max_digits=10, decimal_places=4, default=Decimal("0"))
    estimated_cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    actual_cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    image_count = models.PositiveIntegerField(null=True, blank=True)

    # Review.
    review_state = models.CharField(
        _("review"), max_length=10, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(_("rejection reason"), blank=True, default="")
    is_private = models.BooleanField(_("private"), default=False)
    files_deleted_at = models.DateTimeField(null=True, blank=True)
    # How it entered DeerWeb: the web pages, or the API (with the name of the member's token).
    via = models.CharField(_("entered through"), max_length=3, choices=Via.choices, default=Via.WEB)
    via_token = models.CharField(_("API token"), max_length=100, blank=True, default="")
    # The language of the page it was submitted from: what the worker writes about it
    # (its error) is in that language. Empty: the site's default.
    language = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["owner", "status", "-created_at"]),
            models.Index(fields=["owner", "model_id", "-created_at"]),
            models.Index(fields=["-created_at"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["model_id", "-created_at"]),
            models.Index(fields=["status", "next_poll_at"]),
            models.Index(fields=["deerapi_id"]),
            models.Index(
                fields=["compare_group"], condition=models.Q(compare_group__isnull=False), name="prediction_compare_idx"
            ),
            # The review queue: succeeded and not yet reviewed, oldest first.
            models.Index(fields=["status", "review_state", "created_at"]),
            # The team gallery: approved and not private, newest first.
            models.Index(fields=["review_state", "is_private", "-created_at"]),
        ]
        permissions = [
            ("view_team_predictions", _("Can see every member's predictions")),
            ("review_prediction", _("Can approve and reject predictions")),
            ("manage_team", _("Can manage members, quotas and models")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.model_id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("predictions:detail", args=[self.pk])

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


class InputImage(models.Model):
    """An image a member uploaded as a model input (e.g. Kontext's input_image).

    DeerAPI fetches it by an unguessable URL (`token`), or it is sent inline as a
    data URL when small. The token URL answers only while a prediction using the
    image may still be fetched by DeerAPI (see `selectors.input_image_for_deerapi`);
    pages link to it through its prediction, under that prediction's permissions.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="input_images")
    # The predictions that use it: one, since a reused image is copied for its new
    # prediction (uploads.input_values_store), except links found in older inputs.
    predictions = models.ManyToManyField(Prediction, related_name="input_images", blank=True)
    file = models.FileField(upload_to="inputs/%Y/%m/", max_length=300)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # SHA-256 of the file, hex (the API's checksum and etag); empty for uploads stored before it was kept.
    sha256 = models.CharField(max_length=64, blank=True, default="")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("input image")
        verbose_name_plural = _("input images")

    def __str__(self) -> str:
        return f"{self.owner_id}/{self.token}"
