"""Roles: the permission checks, role assignment, and `is_staff` following the Admin role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.management.sql import emit_post_migrate_signal

from accounts import roles
from audit.models import AuditEntry
from common import permissions
from predictions.models import User

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no cached permissions


def test_each_fixture_user_has_the_checks_of_their_role(member, reviewer, admin_user):
    checks = (permissions.can_view_team, permissions.is_reviewer, permissions.is_admin)
    assert [check(member) for check in checks] == [False, False, False]
    assert [check(reviewer) for check in checks] == [True, True, False]
    assert [check(admin_user) for check in checks] == [True, True, True]
    assert [check(AnonymousUser()) for check in checks] == [False, False, False]
    assert not reviewer.is_staff, "a reviewer needs no admin site"


def test_a_deactivated_reviewer_or_admin_has_no_role_left(reviewer, admin_user):
    for user in (reviewer, admin_user):
        User.objects.filter(pk=user.pk).update(is_active=False)
        user = fresh(user)
        assert (
            not permissions.is_reviewer(user) and not permissions.is_admin(user) and not permissions.can_view_team(user)
        )


def test_role_of_names_the_highest_role(member, reviewer, admin_user):
    assert [permissions.role_of(u) for u in (member, reviewer, admin_user)] == ["Member", "Reviewer", "Admin"]
    superuser = User.objects.create_superuser("root", "", "x")
    assert permissions.role_of(superuser) == "Admin"


def test_setting_a_role_replaces_the_other_role_groups_keeps_others_and_audits(member, admin_user):
    extra = Group.objects.create(name="Night shift")
    member.groups.add(extra)

    assert roles.user_role_set(member, permissions.REVIEWER, by=admin_user)
    assert roles.user_role_set(member, permissions.ADMIN, by=admin_user)
    assert not roles.user_role_set(member, permissions.ADMIN, by=admin_user)

    member = fresh(member)
    assert set(member.groups.values_list("name", flat=True)) == {"Admin", "Night shift"}
    assert member.is_staff and permissions.is_admin(member)
    entries = list(AuditEntry.objects.filter(action="user.role").order_by("pk"))
    assert [(e.before["role"], e.after["role"]) for e in entries] == [("Member", "Reviewer"), ("Reviewer", "Admin")]
    assert {e.actor_id for e in entries} == {admin_user.pk}


def test_leaving_the_admin_role_clears_staff_but_a_superuser_stays_staff(member, admin_user):
    roles.user_role_set(member, permissions.ADMIN, by=admin_user)
    roles.user_role_set(member, permissions.MEMBER, by=admin_user)
    assert not fresh(member).is_staff

    roles.user_role_set(admin_user, permissions.MEMBER, by=None)
    admin_user = fresh(admin_user)
    assert admin_user.is_staff and permissions.is_admin(admin_user)


def test_an_unknown_role_is_refused(member):
    with pytest.raises(ValueError):
        roles.user_role_set(member, "Owner", by=None)


def test_missing_role_groups_are_recreated_with_their_permissions(member):
    Group.objects.filter(name__in=permissions.ROLES).delete()

    groups = roles.role_groups_ensure()

    assert set(groups) == set(permissions.ROLES)
    assert set(groups["Reviewer"].permissions.values_list("codename", flat=True)) >= {
        "view_team_predictions",
        "review_prediction",
    }
    assert groups["Admin"].permissions.filter(codename="manage_team").exists()
    assert not groups["Member"].permissions.filter(codename="review_prediction").exists()


def test_the_migration_created_the_groups_with_the_same_permissions(db):
    # pytest-django runs these tests before any transactional test could flush the groups.
    reviewer = Group.objects.get(name="Reviewer")
    assert set(Group.objects.filter(name__in=permissions.ROLES).values_list("name", flat=True)) == set(
        permissions.ROLES
    )
    assert set(reviewer.permissions.values_list("codename", flat=True)) == {
        "add_prediction",
        "view_prediction",
        "add_prompt",
        "change_prompt",
        "view_prompt",
        "view_team_predictions",
        "review_prediction",
    }


def test_after_migrate_the_admin_group_holds_the_permissions_of_apps_added_since_it_was_made(db):
    admin = roles.role_groups_ensure()[permissions.ADMIN]
    admin.permissions.remove(*Permission.objects.filter(content_type__app_label__in=["webhooks", "ops"]))

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert admin.permissions.filter(content_type__app_label="webhooks", codename="view_webhookdelivery").exists()
    assert admin.permissions.filter(content_type__app_label="ops").exists()
