"""Named collections of outputs, private or visible to the team, and their read-only share links."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from predictions.models import PredictionOutput


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Only me")
    TEAM = "team", _("The team")


class Collection(models.Model):
    """A member's named set of outputs. Team-visible ones are shown to each teammate with only
    the outputs that teammate may see (selectors.collection_items): a collection widens nothing."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(_("name"), max_length=120)
    visibility = models.CharField(
        _("visible to"), max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("collection")
        verbose_name_plural = _("collections")
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_collection_name")]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["visibility", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("collections:detail", args=[self.pk])


class CollectionItem(models.Model):
    """One output in a collection, at most once; `created_at` is when it was added."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    output = models.ForeignKey(PredictionOutput, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("collection item")
        verbose_name_plural = _("collection items")
        constraints = [models.UniqueConstraint(fields=["collection", "output"], name="unique_collection_output")]
        indexes = [models.Index(fields=["collection", "-created_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.collection_id}: {self.output_id}"


class ShareLink(models.Model):
    """A read-only link to a collection for people outside the team. Only the SHA-256 of its
    token is kept: the full address is shown once, when it is made."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    show_prompt = models.BooleanField(_("show the prompts"), default=False)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    open_count = models.PositiveIntegerField(_("opened"), default=0)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    # When an opening was last written to the audit log (at most one entry an hour per link).
    audited_open_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        indexes = [models.Index(fields=["collection", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.collection_id} ({self.token_hash[:8]}…)"

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now
