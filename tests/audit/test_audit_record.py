"""audit_record: what an entry stores for values JSON has no type for."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from audit.models import AuditEntry
from audit.services import audit_record

pytestmark = pytest.mark.django_db


def test_decimals_datetimes_and_uuids_are_stored_as_text_alone_and_in_lists(admin_user, member):
    when = datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC)
    token = uuid.UUID("12345678-1234-5678-1234-567812345678")
    audit_record(
        actor=admin_user,
        action="quota.change",
        target=member,
        before={"budget": Decimal("2.5000"), "at": when, "token": token, "missing": None},
        after={"history": [Decimal("0.10"), when, token, 3, True]},
    )

    entry = AuditEntry.objects.get()
    assert entry.before == {
        "budget": "2.5000",
        "at": "2026-03-01T09:30:15Z",
        "token": "12345678-1234-5678-1234-567812345678",
        "missing": None,
    }
    assert entry.after == {"history": ["0.10", "2026-03-01T09:30:15Z", "12345678-1234-5678-1234-567812345678", 3, True]}
