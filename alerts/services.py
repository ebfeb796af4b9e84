"""The team's Slack-compatible incoming webhook for budget alerts: set, cleared, read for a post.

DEERWEB_SLACK_WEBHOOK_URL (or _FILE) in the environment wins over the one an admin stores."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from alerts.models import AlertSettings
from audit.services import audit_record
from billing import services as billing
from webhooks import keys, targets

if TYPE_CHECKING:
    from predictions.models import User


class SlackSource:
    NONE = "none"
    ENVIRONMENT = "environment"
    STORED = "stored"


def slack_url_check(url: str) -> None:
    """An https URL whose host is public (the webhooks' rules: no private, loopback or link-local
    address, unless in DEERWEB_WEBHOOK_ALLOWED_HOSTS, where http is allowed too, for a local
    receiver). Raises ValueError with a message for the admin."""
    try:
        target = targets.target_resolve(url)
    except targets.WebhookURLError as exc:
        raise ValueError(_("Slack URL: %(problem)s") % {"problem": exc.message}) from None
    allowed = {host.lower() for host in settings.WEBHOOK_ALLOWED_HOSTS}
    if target.scheme != "https" and target.host not in allowed and target.address not in allowed:
        raise ValueError(_("The Slack URL must start with https://."))


def slack_source() -> str:
    if settings.SLACK_WEBHOOK_URL:
        return SlackSource.ENVIRONMENT
    row = AlertSettings.objects.filter(pk=1).only("slack_url_encrypted").first()
    return SlackSource.STORED if row and row.slack_url_encrypted else SlackSource.NONE


def slack_url() -> str:
    """The URL to post alerts to; empty without one (or when the key that stored it is gone)."""
    if settings.SLACK_WEBHOOK_URL:
        return settings.SLACK_WEBHOOK_URL
    row = AlertSettings.objects.filter(pk=1).only("slack_url_encrypted").first()
    if row is None or not row.slack_url_encrypted:
        return ""
    try:
        return keys.url_decrypt(row.slack_url_encrypted)
    except InvalidToken:
        return ""


def slack_url_set(url: str, *, by: User) -> None:
    """Store the team's Slack URL encrypted (checked first: raises ValueError with a message)."""
    billing.admin_required(by)
    url = url.strip()
    slack_url_check(url)
    with transaction.atomic():
        row, _created = AlertSettings.objects.select_for_update().get_or_create(pk=1)
        row.slack_url_encrypted = keys.url_encrypt(url)
        row.save(update_fields=["slack_url_encrypted", "updated_at"])
        # The host only: the path is the secret.
        audit_record(actor=by, action="alerts.slack_set", target=row, summary=urlsplit(url).hostname or "")


def slack_url_clear(*, by: User) -> bool:
    billing.admin_required(by)
    with transaction.atomic():
        row = AlertSettings.objects.select_for_update().filter(pk=1).first()
        if row is None or not row.slack_url_encrypted:
            return False
        row.slack_url_encrypted = ""
        row.save(update_fields=["slack_url_encrypted", "updated_at"])
        audit_record(actor=by, action="alerts.slack_clear", target=row)
    return True
