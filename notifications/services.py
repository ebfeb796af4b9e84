"""Writes of notifications: made by other apps (budget alerts), read and dismissed by members."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone

from notifications.models import Notification


def notifications_create(
    recipient_ids: Iterable[int], kind: str, params: Mapping[str, Any], *, url: str = "", now: datetime | None = None
) -> list[Notification]:
    """One notification per recipient (one INSERT); call it inside the transaction that decided them."""
    now = now or timezone.now()
    rows = [
        Notification(recipient_id=user_id, kind=kind, params=dict(params), url=url, created_at=now)
        for user_id in dict.fromkeys(recipient_ids)
    ]
    return Notification.objects.bulk_create(rows)


def notifications_mark_read(recipient_id: int, notification_id: int | None = None) -> int:
    """Mark the recipient's unread notifications read: all of them, or one. Returns how many changed."""
    rows = Notification.objects.filter(recipient_id=recipient_id, read_at__isnull=True)
    if notification_id is not None:
        rows = rows.filter(pk=notification_id)
    return rows.update(read_at=timezone.now())
