"""Account services: invite, deactivate, reactivate, set-password links; each audited."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator

from accounts import roles
from accounts import services as accounts
from audit.models import AuditEntry
from common import permissions
from predictions.models import User

pytestmark = pytest.mark.django_db


def test_an_invite_creates_an_account_without_a_password_in_the_role_with_a_link(admin_user):
    user, path = accounts.user_invite(
        username="frank", email="frank@example.com", role=permissions.REVIEWER, by=admin_user
    )

    assert not user.has_usable_password()
    assert permissions.role_of(User.objects.get(pk=user.pk)) == "Reviewer"
    uid, token = path.rstrip("/").split("/")[-2:]
    assert path.startswith("/accounts/set-password/")
    assert default_token_generator.check_token(user, token)
    assert set(AuditEntry.objects.filter(target_id=str(user.pk)).values_list("action", flat=True)) == {
        "user.invite",
        "user.role",
    }


def test_deactivating_keeps_the_history_and_is_audited_once(admin_user, member):
    assert accounts.user_deactivate(member, by=admin_user)
    assert not accounts.user_deactivate(member, by=admin_user)

    member.refresh_from_db()
    assert not member.is_active
    [entry] = AuditEntry.objects.filter(action="user.deactivate")
    assert (entry.actor, entry.before, entry.after) == (admin_user, {"is_active": True}, {"is_active": False})
    assert accounts.user_reactivate(member, by=admin_user)
    assert User.objects.get(pk=member.pk).is_active
    assert AuditEntry.objects.filter(action="user.reactivate").count() == 1


def test_nobody_deactivates_themselves_and_only_a_superuser_deactivates_a_superuser(admin_user, member):
    with pytest.raises(accounts.AccountError):
        accounts.user_deactivate(admin_user, by=admin_user)
    roles.user_role_set(member, permissions.ADMIN, by=admin_user)
    with pytest.raises(accounts.AccountError):
        accounts.user_deactivate(admin_user, by=User.objects.get(pk=member.pk))
    with pytest.raises(accounts.AccountError):
        accounts.user_password_link(admin_user, by=User.objects.get(pk=member.pk))
    assert User.objects.get(pk=admin_user.pk).is_active


def test_a_password_link_is_audited_and_stops_working_once_the_password_changes(admin_user, member):
    path = accounts.user_password_link(member, by=admin_user)
    token = path.rstrip("/").split("/")[-1]
    assert default_token_generator.check_token(member, token)
    assert AuditEntry.objects.filter(action="user.password_link", target_id=str(member.pk)).exists()

    member.set_password("a-brand-new-passphrase")
    member.save()

    assert not default_token_generator.check_token(member, token)
