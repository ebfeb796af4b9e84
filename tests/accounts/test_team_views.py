"""The team page: members and roles, invites with a set-password link, deactivation, password links."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts import roles
from audit.models import AuditEntry
from common import permissions
from predictions.models import User

pytestmark = pytest.mark.django_db


def test_the_team_page_lists_everyone_with_their_role_and_state(admin_client, member, reviewer, admin_user):
    User.objects.filter(pk=member.pk).update(is_active=False)
    html = admin_client.get(reverse("team:list")).content.decode()
    for name, role in (("alice", "Member"), ("charlie", "Reviewer"), ("dora", "Admin")):
        assert re.search(rf">{name}</a></td>\s*<td>[^<]*</td>\s*<td>{role}</td>", html), name
    assert "Deactivated" in html


def test_the_team_page_costs_the_same_queries_for_a_bigger_team(admin_client, django_assert_max_num_queries):
    reviewers = roles.role_groups_ensure()[permissions.REVIEWER]
    for i in range(3):
        User.objects.create_user(f"m{i}").groups.add(reviewers)
    with django_assert_max_num_queries(12) as few:
        admin_client.get(reverse("team:list"))
    for i in range(30):
        User.objects.create_user(f"n{i}").groups.add(reviewers)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(reverse("team:list"))


def test_inviting_creates_the_account_and_shows_a_one_time_link(admin_client, admin_user):
    response = admin_client.post(reverse("team:invite"), {"username": "frank", "email": "", "role": "Reviewer"})

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    link = re.search(r'value="(http://testserver/accounts/set-password/[^"]+)"', html).group(1)
    frank = User.objects.get(username="frank")
    assert not frank.has_usable_password()
    assert permissions.role_of(frank) == "Reviewer"
    assert link.endswith("/")
    assert AuditEntry.objects.filter(action="user.invite", actor=admin_user).exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"username": "ALICE", "role": "Member"}, "already an account"),
        ({"username": "bad name!", "role": "Member"}, "Enter a valid username"),
        ({"username": "gina", "role": "Owner"}, "Select a valid choice"),
        ({"username": "gina", "role": "Member", "email": "not-an-address"}, "Enter a valid email address"),
    ],
)
def test_a_bad_invite_gets_a_message_on_the_form(admin_client, member, data, message):
    response = admin_client.post(reverse("team:invite"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.filter(username="gina").exists()


def test_changing_a_role_is_audited_and_follows_through_to_the_admin_site(admin_client, admin_user, member):
    response = admin_client.post(reverse("team:role", args=[member.pk]), {"role": "Admin"}, follow=True)

    assert "The role of alice is now Admin." in response.content.decode()
    member.refresh_from_db()
    assert member.is_staff
    entry = AuditEntry.objects.get(action="user.role")
    assert (entry.actor, entry.before["role"], entry.after["role"]) == (admin_user, "Member", "Admin")


def test_an_admin_cannot_change_their_own_role_or_a_superusers(client, admin_user, member):
    roles.user_role_set(member, permissions.ADMIN, by=admin_user)
    client.force_login(User.objects.get(pk=member.pk))

    own = client.post(reverse("team:role", args=[member.pk]), {"role": "Member"}, follow=True)
    boss = client.post(reverse("team:role", args=[admin_user.pk]), {"role": "Member"}, follow=True)

    assert "cannot change your own role" in own.content.decode()
    assert "always an admin" in boss.content.decode()
    assert permissions.role_of(User.objects.get(pk=member.pk)) == "Admin"


def test_deactivating_and_reactivating_from_the_members_page(admin_client, member):
    page = reverse("team:member", args=[member.pk])

    response = admin_client.post(reverse("team:active", args=[member.pk]), {"active": "0"}, follow=True)
    assert "can no longer log in" in response.content.decode()
    assert not User.objects.get(pk=member.pk).is_active
    assert "user.deactivate" in admin_client.get(page).content.decode(), "the page shows the account's history"

    admin_client.post(reverse("team:active", args=[member.pk]), {"active": "1"})
    assert User.objects.get(pk=member.pk).is_active


def test_an_admin_cannot_deactivate_themselves(admin_client, admin_user):
    response = admin_client.post(reverse("team:active", args=[admin_user.pk]), {"active": "0"}, follow=True)
    assert "cannot deactivate your own account" in response.content.decode()
    assert User.objects.get(pk=admin_user.pk).is_active


def test_a_password_link_for_a_member_is_shown_once(admin_client, member):
    response = admin_client.post(reverse("team:password_link", args=[member.pk]))
    assert response.status_code == 200
    assert re.search(r'value="http://testserver/accounts/set-password/[^"]+"', response.content.decode())
    assert User.objects.get(pk=member.pk).check_password("correct-horse-battery-staple"), "the old one still works"


def test_an_unknown_member_is_404(admin_client):
    assert admin_client.get(reverse("team:member", args=[999_999])).status_code == 404
    assert admin_client.post(reverse("team:active", args=[999_999]), {"active": "0"}).status_code == 404
