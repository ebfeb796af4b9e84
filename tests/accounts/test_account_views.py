"""A member's own password, the one-time set-password link, and what deactivation does to a session."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts import services as accounts
from predictions.models import User
from tests.world import PASSWORD, SCHNELL, finished_prediction

pytestmark = pytest.mark.django_db
NEW = "a-much-longer-new-passphrase"


def test_a_member_changes_their_own_password_and_stays_logged_in(client, member):
    client.force_login(member)

    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": NEW,
            "new_password2": NEW,
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("accounts:password_changed")
    assert "Password changed" in response.content.decode()
    assert User.objects.get(pk=member.pk).check_password(NEW)
    assert client.get(reverse("predictions:list")).status_code == 200


def test_a_wrong_old_password_or_a_weak_new_one_gets_messages_on_the_form(client, member):
    client.force_login(member)
    wrong = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "nope",
            "new_password1": NEW,
            "new_password2": NEW,
        },
    )
    weak = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "123",
            "new_password2": "123",
        },
    )
    assert wrong.status_code == 200 and "Your old password was entered incorrectly" in wrong.content.decode()
    assert "This password is too short" in weak.content.decode()
    assert User.objects.get(pk=member.pk).check_password(PASSWORD)


def test_an_invited_member_sets_a_password_through_the_link_once_and_logs_in(client, admin_user):
    user, path = accounts.user_invite(username="frank", email="", role="Member", by=admin_user)

    landing = client.get(path, follow=True)
    form_url = landing.redirect_chain[-1][0]
    assert "set-password/" in form_url and "Choose a password" in landing.content.decode()
    done = client.post(form_url, {"new_password1": NEW, "new_password2": NEW}, follow=True)
    assert "Password set" in done.content.decode()

    assert client.login(username="frank", password=NEW)
    client.logout()
    again = client.get(path, follow=True).content.decode()
    assert "This link no longer works" in again


def test_a_tampered_link_says_it_no_longer_works(client, member):
    response = client.get(reverse("accounts:password_set", args=["MQ", "bad-token"]))
    assert response.status_code == 200
    assert "This link no longer works" in response.content.decode()


def test_a_deactivated_members_session_stops_working_and_they_cannot_log_in_or_submit(client, member, admin_user):
    earlier = finished_prediction(member)
    client.force_login(member)
    assert client.get(reverse("predictions:list")).status_code == 200

    accounts.user_deactivate(member, by=admin_user)

    assert client.get(reverse("predictions:list"))["Location"].startswith("/accounts/login/")
    submit = client.post(reverse("predictions:new"), {"model": SCHNELL, "prompt": "x"})
    assert submit["Location"].startswith("/accounts/login/")
    login = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert login.status_code == 200 and re.search(r'role="alert"', login.content.decode())
    assert list(member.predictions.all()) == [earlier], "the history stays and nothing new was made"
