"""The login page's defences: a few failures lock an account, and separately an address,
for a minute (DeerWeb's login and the admin's); sessions expire; weak passwords are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone

from tests.world import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
HERE = "198.51.100.7"
ELSEWHERE = "203.0.113.9"
LOCKED = "Too many failed logins"


def attempt(client, username: str, password: str, *, address: str = HERE, url: str = LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, username: str, times: int, *, address: str = HERE, url: str = LOGIN):
    """`times` wrong passwords; every one before the last is an ordinary "wrong password"."""
    for _ in range(times - 1):
        response = attempt(client, username, "wrong-password", address=address, url=url)
        assert response.status_code == 200
        assert LOCKED not in response.content.decode()
    return attempt(client, username, "wrong-password", address=address, url=url)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Per account and per address -------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_even_from_another_address(client, member):
    assert fail(client, "alice", settings.AXES_FAILURE_LIMIT).status_code == 429
    response = attempt(client, "alice", PASSWORD, address=ELSEWHERE)
    assert response.status_code == 429
    assert not logged_in(client)


def test_four_wrong_passwords_do_not_lock_anyone_out(client, member):
    assert fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1).status_code == 200
    response = attempt(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_failures_from_one_address_lock_that_address_for_every_account(client, member, other_member):
    for name in ("carol", "dave", "erin", "frank", "grace"):
        attempt(client, name, "wrong-password")
    assert attempt(client, "bob", PASSWORD).status_code == 429
    assert not logged_in(client)
    assert attempt(client, "bob", PASSWORD, address=ELSEWHERE).status_code == 302
    assert logged_in(client)


def test_the_lockout_lasts_one_minute(client, member):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(client, "alice", settings.AXES_FAILURE_LIMIT)
        clock.shift(timedelta(seconds=50))
        assert attempt(client, "alice", PASSWORD).status_code == 429
        clock.shift(timedelta(seconds=11))
        assert attempt(client, "alice", PASSWORD).status_code == 302
    assert logged_in(client)


def test_trying_again_while_locked_out_does_not_extend_the_lockout(client, member):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(client, "alice", settings.AXES_FAILURE_LIMIT)
        for _ in range(3):
            clock.shift(timedelta(seconds=15))
            assert attempt(client, "alice", "wrong-password").status_code == 429
        clock.shift(timedelta(seconds=16))
        assert attempt(client, "alice", PASSWORD).status_code == 302


def test_the_lockout_is_a_message_on_the_login_page(client, member):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    response = attempt(client, "alice", PASSWORD)
    html = response.content.decode()
    assert response.status_code == 429
    assert "registration/login.html" in [t.name for t in response.templates]
    assert 'role="alert"' in html
    assert "Too many failed logins for this account or from this address. Try again in 1 minute." in html
    assert "Please enter a correct username and password" not in html
    assert 'name="username"' in html and 'value="alice"' in html
    assert response["Content-Security-Policy"]


def test_the_admin_login_is_throttled_too_with_its_own_page(client, admin_user):
    fail(client, "dora", settings.AXES_FAILURE_LIMIT, url=ADMIN_LOGIN)
    response = attempt(client, "dora", PASSWORD, url=ADMIN_LOGIN)
    assert response.status_code == 429
    assert "admin/login.html" in [t.name for t in response.templates]
    assert LOCKED in response.content.decode()
    assert not logged_in(client)


def test_failures_on_the_admin_login_count_for_deerwebs_login(client, member):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT, url=ADMIN_LOGIN)
    assert attempt(client, "alice", PASSWORD).status_code == 429


def test_the_password_is_never_stored_with_a_failure(client, member):
    from axes.models import AccessAttempt

    attempt(client, "alice", "hunter2-secret-guess")
    stored = AccessAttempt.objects.get(username="alice")
    assert "hunter2-secret-guess" not in stored.post_data
    assert stored.ip_address == HERE


# --- Behind a reverse proxy ------------------------------------------------------------------


@pytest.fixture
def one_proxy(settings):
    """Axes' settings for DEERWEB_PROXY_COUNT=1 (tests/deerweb/test_settings.py checks that mapping)."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR"]
    settings.AXES_IPWARE_PROXY_COUNT = 0
    settings.IPWARE_STRICT = False


def test_behind_one_proxy_the_address_is_the_one_the_proxy_saw(rf, one_proxy):
    request = rf.post(LOGIN, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {HERE}")
    assert get_client_ip_address(request) == HERE


def test_without_proxies_a_forwarded_header_is_ignored(rf):
    request = rf.post(LOGIN, REMOTE_ADDR=HERE, HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert get_client_ip_address(request) == HERE


def test_behind_a_proxy_a_client_cannot_dodge_the_lockout_by_forging_the_header(client, member, settings, one_proxy):
    for forged in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": f"user{forged}", "password": "x"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{forged}, {HERE}",
        )
    response = client.post(
        LOGIN,
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=f"192.0.2.99, {HERE}",
    )
    assert response.status_code == 429


# --- Sign-ins that are not web requests ---------------------------------------------------


def test_authenticate_without_a_request_still_checks_the_password(member):
    assert authenticate(username="alice", password=PASSWORD) == member
    assert authenticate(username="alice", password="wrong-password") is None


def test_the_test_clients_login_and_force_login_keep_working(client, member):
    assert client.login(username="alice", password=PASSWORD)
    client.logout()
    client.force_login(member)
    assert client.get("/predictions/").status_code == 200


# --- Sessions ----------------------------------------------------------------------------------


def test_a_session_ends_after_the_session_age(client, member):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        response = attempt(client, "alice", PASSWORD)
        cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
        assert cookie["httponly"]
        clock.shift(timedelta(seconds=settings.SESSION_COOKIE_AGE - 60))
        assert client.get("/predictions/").status_code == 200
        clock.shift(timedelta(seconds=61))
        response = client.get("/predictions/")
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


def test_logging_out_ends_the_session_on_the_server(client, member):
    attempt(client, "alice", PASSWORD)
    session_key = client.session.session_key
    client.post("/accounts/logout/")
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()


# --- Passwords ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weak", "reason"),
    [
        ("deer", "too short"),
        ("password123", "too common"),
        ("83749261504", "entirely numeric"),
        ("alice@example.com", "too similar"),
    ],
)
def test_a_weak_password_is_refused_on_the_password_change_page(member_client, member, weak, reason):
    response = member_client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak}
    )
    assert response.status_code == 200
    assert reason in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)
