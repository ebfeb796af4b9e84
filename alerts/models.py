"""Where budget alerts go besides DeerWeb's pages and email: the team's Slack-compatible
incoming webhook. Its URL is a secret (whoever has it can post to the channel): stored
encrypted under a key derived from SECRET_KEY (webhooks.keys), never shown again, never logged."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertSettings(models.Model):
    """One row (pk=1)."""

    slack_url_encrypted = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("alert settings")
        verbose_name_plural = _("alert settings")

    def __str__(self) -> str:
        return "alert settings"
