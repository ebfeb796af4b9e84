"""The AuditEntry admin: readable by admins, changeable by nobody, superusers included."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts import roles
from audit.models import AuditEntry
from audit.services import audit_record
from common import permissions
from predictions.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(admin_user, member) -> AuditEntry:
    return audit_record(
        actor=admin_user,
        action="user.deactivate",
        target=member,
        summary="alice",
        before={"is_active": True},
        after={"is_active": False},
    )


def test_a_superuser_can_read_an_entry_but_not_add_change_or_delete_it(client, admin_user, entry):
    client.force_login(admin_user)
    change_url = reverse("admin:audit_auditentry_change", args=[entry.pk])

    listing = client.get(reverse("admin:audit_auditentry_changelist")).content.decode()
    assert "user.deactivate" in listing
    assert "delete_selected" not in listing
    page = client.get(change_url).content.decode()
    assert "alice" in page and 'name="summary"' not in page and 'name="_save"' not in page

    client.post(change_url, {"summary": "forged", "action": "x"})
    entry.refresh_from_db()
    assert entry.summary == "alice"
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    delete_url = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_admin_filters_entries_by_known_action(client, admin_user, entry, member):
    audit_record(actor=admin_user, action="prediction.approve", target=member)
    client.force_login(admin_user)
    html = client.get(reverse("admin:audit_auditentry_changelist"), {"action": "prediction."}).content.decode()
    assert re.findall(r'<td class="field-action">([^<]+)</td>', html) == ["prediction.approve"]


def test_an_admin_group_member_can_read_the_log_and_a_reviewer_cannot(client, member, reviewer, entry):
    roles.user_role_set(member, permissions.ADMIN, by=None)
    client.force_login(User.objects.get(pk=member.pk))
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
    client.force_login(reviewer)
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 302
