"""The audit log: every review decision, deletion, quota change and role change.

Write through `audit_record` inside the transaction that makes the change, so
the entry exists exactly when the change does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from audit.models import AuditEntry

if TYPE_CHECKING:
    from predictions.models import User


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | type[models.Model],
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record that `actor` (None: DeerWeb itself) did `action` to `target`: a row, or a
    model for what concerns all its rows (its target id is then empty).

    `action` is a dotted name such as "prediction.approve" or "quota.change".
    `before` and `after` hold only the fields that changed; Decimals, datetimes and
    UUIDs among them are stored as text (AuditEntry's JSON encoder).
    """
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        target_type=target._meta.label_lower,
        target_id="" if isinstance(target, type) else str(target.pk),
        summary=summary[:300],
        before=before or {},
        after=after or {},
    )
