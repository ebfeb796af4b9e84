"""The User admin: roles as groups, `is_staff` following the Admin role, and every change audited."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import roles
from audit.models import AuditEntry
from common import permissions
from predictions.models import User
from tests.world import PASSWORD

pytestmark = pytest.mark.django_db


def change_form(user: User, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "groups": [g.pk for g in user.groups.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def group(name: str) -> Group:
    return roles.role_groups_ensure()[name]


def test_putting_a_member_in_the_admin_group_makes_them_staff_and_is_audited(admin_client, admin_user, member):
    url = reverse("admin:predictions_user_change", args=[member.pk])

    response = admin_client.post(url, change_form(member, groups=[group(permissions.ADMIN).pk]))

    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert member.is_staff
    assert permissions.is_admin(User.objects.get(pk=member.pk))
    entry = AuditEntry.objects.get(action="user.role")
    assert entry.actor == admin_user
    assert (entry.before["role"], entry.after["role"]) == ("Member", "Admin")
    assert (entry.before["is_staff"], entry.after["is_staff"]) == (False, True)


def test_taking_the_admin_group_away_clears_staff_unless_superuser(admin_client, member):
    roles.user_role_set(member, permissions.ADMIN, by=None)
    member.refresh_from_db()
    url = reverse("admin:predictions_user_change", args=[member.pk])

    admin_client.post(url, change_form(member, groups=[group(permissions.REVIEWER).pk]))

    member.refresh_from_db()
    assert not member.is_staff
    assert permissions.is_reviewer(User.objects.get(pk=member.pk))


def test_deactivating_in_the_admin_form_is_audited(admin_client, admin_user, member):
    url = reverse("admin:predictions_user_change", args=[member.pk])
    admin_client.post(url, change_form(member, is_active=""))
    member.refresh_from_db()
    assert not member.is_active
    entry = AuditEntry.objects.get(action="user.deactivate")
    assert (entry.actor, entry.after) == (admin_user, {"is_active": False})


def test_the_deactivate_action_deactivates_and_audits_but_not_the_admin_themselves(admin_client, admin_user, member):
    response = admin_client.post(
        reverse("admin:predictions_user_changelist"),
        {
            "action": "deactivate_selected",
            ACTION_CHECKBOX_NAME: [member.pk, admin_user.pk],
        },
        follow=True,
    )
    member.refresh_from_db()
    admin_user.refresh_from_db()
    assert not member.is_active and admin_user.is_active
    assert "cannot deactivate your own account" in response.content.decode()
    assert AuditEntry.objects.filter(action="user.deactivate").count() == 1


def test_a_new_account_from_the_admin_site_is_a_member(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:predictions_user_add"),
        {
            "username": "gina",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    gina = User.objects.get(username="gina")
    assert list(gina.groups.values_list("name", flat=True)) == [permissions.MEMBER]
    assert not gina.is_staff
    assert AuditEntry.objects.filter(action="user.create", actor=admin_user).exists()


def test_a_non_superuser_admin_cannot_make_superusers_or_edit_one(client, member, admin_user):
    roles.user_role_set(member, permissions.ADMIN, by=None)
    client.force_login(User.objects.get(pk=member.pk))

    own = client.get(reverse("admin:predictions_user_change", args=[member.pk])).content.decode()
    assert 'name="is_superuser"' not in own and 'name="is_staff"' not in own
    superuser_page = client.get(reverse("admin:predictions_user_change", args=[admin_user.pk]))
    assert superuser_page.status_code == 200
    assert 'name="username"' not in superuser_page.content.decode(), "a superuser is shown read-only"
    client.post(reverse("admin:predictions_user_change", args=[admin_user.pk]), change_form(admin_user, is_active=""))
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_the_user_list_shows_roles_without_a_query_per_row(admin_client, django_assert_max_num_queries):
    for i in range(3):
        User.objects.create_user(f"m{i}").groups.add(group(permissions.REVIEWER))
    with django_assert_max_num_queries(20) as few:
        admin_client.get(reverse("admin:predictions_user_changelist"))
    for i in range(20):
        User.objects.create_user(f"n{i}").groups.add(group(permissions.REVIEWER))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = admin_client.get(reverse("admin:predictions_user_changelist")).content.decode()
    assert html.count("Reviewer") >= 23
