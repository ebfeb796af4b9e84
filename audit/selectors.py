"""Reads of the audit log."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from audit.models import AuditEntry
from common.paging import day_range


def audit_entries(
    *,
    actor_id: int | None = None,
    automatic: bool = False,
    action: str = "",
    target_type: str = "",
    target_id: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """The audit log, newest first, filtered; `automatic` picks what DeerWeb did by itself."""
    qs = AuditEntry.objects.select_related("actor")
    if automatic:
        qs = qs.filter(actor__isnull=True)
    elif actor_id:
        qs = qs.filter(actor_id=actor_id)
    if action:
        qs = qs.filter(action__startswith=action) if action.endswith(".") else qs.filter(action=action)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id:
        qs = qs.filter(target_id=target_id)
    return day_range(qs, since, until).order_by("-created_at", "-pk")
