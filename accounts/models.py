"""Personal API tokens: a member's key to DeerWeb's Replicate-compatible API.

Only a token's SHA-256 is stored; the token itself is shown once, when it is made
(accounts.tokens).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("member"),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. “laptop script”."))
    # The start of the token, so its owner can recognise it in a list; not enough to use it.
    prefix = models.CharField(_("prefix"), max_length=12)
    # The lookup key of every API request: unique, so indexed.
    key_hash = models.CharField(_("SHA-256 of the token"), max_length=64, unique=True)
    read_only = models.BooleanField(
        _("read-only"), default=False, help_text=_("Can read predictions but not create or cancel them.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, help_text=_("Empty: never."))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_address = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        help_text=_("Empty: made on the command line."),
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def is_usable(self, now: datetime | None = None) -> bool:
        """Not revoked and not expired (whether its owner may still log in is the user's own flag)."""
        return self.revoked_at is None and not self.is_expired(now)
