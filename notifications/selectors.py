"""Reads of notifications: a member's list, and the count of unread ones for the page header."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from notifications.models import Notification


def notifications_of(recipient_id: int) -> QuerySet[Notification]:
    """A member's notifications, newest first (index: recipient, -created_at, -id)."""
    return Notification.objects.filter(recipient_id=recipient_id).order_by("-created_at", "-id")


def unread_count(recipient_id: int) -> int:
    return Notification.objects.filter(recipient_id=recipient_id, read_at__isnull=True).count()


def unread_count_subquery(recipient: Any = None) -> Coalesce:
    """The count of unread notifications of the user `recipient` refers to (OuterRef("pk") by
    default), as an expression another query can carry, so the header adds no query of its own."""
    unread = (
        Notification.objects.filter(recipient_id=recipient if recipient is not None else OuterRef("pk"))
        .filter(read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(unread[:1]), Value(0), output_field=IntegerField())
