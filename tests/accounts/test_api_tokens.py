"""Personal API tokens (accounts.tokens): their format, what is stored, and which tokens
`token_authenticate` lets in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection

from accounts import services as accounts
from accounts import tokens
from accounts.models import ApiToken
from accounts.tokens import TokenError, token_authenticate, token_create, token_hash, token_revoke
from audit.models import AuditEntry
from tests.world import FROZEN_NOW

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r"^dwt_[A-Za-z0-9_-]{40}$")


def every_stored_text() -> str:
    """Every column of every API token and audit entry, as the database holds them."""
    with connection.cursor() as cursor:
        rows = []
        for table in (ApiToken._meta.db_table, AuditEntry._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
            rows.extend(cursor.fetchall())
    return repr(rows)


# --- Format and storage -------------------------------------------------------------------


def test_a_token_is_dwt_and_40_url_safe_random_characters(member):
    made = {token_create(member, f"script {n}")[1] for n in range(20)}
    assert len(made) == 20
    assert all(TOKEN.match(raw) for raw in made), made


def test_a_tokens_prefix_is_its_first_12_characters_and_shows_in_its_name(member):
    token, raw = token_create(member, "laptop")
    assert token.prefix == raw[:12] and token.prefix.startswith("dwt_")
    assert str(token) == f"laptop ({raw[:12]}…)"


def test_only_the_sha256_of_a_token_is_stored(member):
    token, raw = token_create(member, "laptop")

    token.refresh_from_db()
    assert token.key_hash == token_hash(raw) and re.fullmatch(r"[0-9a-f]{64}", token.key_hash)
    assert raw not in every_stored_text()
    assert raw[12:] not in every_stored_text(), "nor its secret part anywhere"


def test_creating_a_token_is_audited_without_the_secret(member, admin_user):
    token, raw = token_create(member, "laptop", read_only=True, by=admin_user)

    entry = AuditEntry.objects.get(action="token.create")
    assert (entry.actor, entry.target_type, entry.target_id) == (admin_user, "accounts.apitoken", str(token.pk))
    assert entry.after == {
        "user": "alice",
        "name": "laptop",
        "prefix": token.prefix,
        "read_only": True,
        "expires_at": None,
    }
    assert raw[12:] not in f"{entry.summary} {entry.before} {entry.after}"
    assert token.created_by == admin_user


def test_a_token_needs_a_name_a_future_expiry_and_an_active_owner(member):
    with pytest.raises(TokenError, match="name"):
        token_create(member, "   ")
    with pytest.raises(TokenError, match="at most 100"):
        token_create(member, "x" * 101)
    with pytest.raises(TokenError, match="future"):
        token_create(member, "old", expires_at=FROZEN_NOW)
    member.is_active = False
    with pytest.raises(TokenError, match="deactivated"):
        token_create(member, "ghost")
    assert not ApiToken.objects.exists() and not AuditEntry.objects.exists()


# --- Authenticate -------------------------------------------------------------------------


def test_a_valid_token_authenticates_with_its_user_loaded_in_two_queries(member, django_assert_num_queries):
    token, raw = token_create(member, "laptop")

    with django_assert_num_queries(2):  # the lookup, and noting its first use
        found = token_authenticate(raw, address="203.0.113.9")
        assert found is not None and found.user.get_username() == "alice"
    assert found.pk == token.pk and not found.read_only
    assert (found.last_used_address, found.last_used_at is not None) == ("203.0.113.9", True)


def test_a_read_only_token_says_so_so_callers_can_refuse_writes(member):
    _token, raw = token_create(member, "dashboard", read_only=True)
    found = token_authenticate(raw)
    assert found is not None and found.read_only is True


@pytest.mark.parametrize(
    "change",
    [
        lambda raw: "",
        lambda raw: "dwt_",
        lambda raw: raw[:-1],
        lambda raw: raw + "A",
        lambda raw: raw[:-1] + ("B" if raw[-1] != "B" else "C"),
        lambda raw: raw.upper() if raw.upper() != raw else raw.lower(),
        lambda raw: "sk-" + raw[4:] + "x",
        lambda raw: f"Bearer {raw}",
        lambda raw: raw.replace("dwt_", "dwx_"),
    ],
    ids=["empty", "start only", "shorter", "longer", "one character off", "other case", "other key", "header", "start"],
)
def test_an_unknown_or_malformed_token_is_refused(member, change):
    _token, raw = token_create(member, "laptop")
    assert token_authenticate(change(raw)) is None


def test_a_token_that_is_not_text_is_refused_without_asking_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert token_authenticate(None) is None  # type: ignore[arg-type]
        assert token_authenticate("not-a-token") is None


def test_a_revoked_token_is_refused(member):
    token, raw = token_create(member, "laptop")
    assert token_revoke(token, by=member)
    assert token_authenticate(raw) is None


def test_an_expired_token_is_refused_from_the_moment_it_expires(member):
    with time_machine.travel(FROZEN_NOW, tick=False) as clock:
        token, raw = token_create(member, "laptop", expires_at=FROZEN_NOW + timedelta(days=30))
        clock.shift(timedelta(days=30) - timedelta(seconds=1))
        assert token_authenticate(raw) is not None
        clock.shift(timedelta(seconds=1))
        assert token_authenticate(raw) is None
        token.refresh_from_db()
        assert token.is_expired() and not token.is_usable()


def test_a_deactivated_members_tokens_stop_working_at_once_and_work_again_when_reactivated(member, admin_user):
    _token, raw = token_create(member, "laptop")
    assert token_authenticate(raw) is not None

    accounts.user_deactivate(member, by=admin_user)
    assert token_authenticate(raw) is None
    accounts.user_reactivate(member, by=admin_user)
    assert token_authenticate(raw) is not None


def test_last_use_is_written_at_most_once_a_minute(member, django_assert_num_queries):
    with time_machine.travel(FROZEN_NOW, tick=False) as clock:
        token, raw = token_create(member, "laptop")
        assert token_authenticate(raw, address="203.0.113.9") is not None

        clock.shift(timedelta(seconds=59))
        with django_assert_num_queries(1):  # the lookup only: no write
            assert token_authenticate(raw, address="198.51.100.7") is not None
        token.refresh_from_db()
        assert (token.last_used_at, token.last_used_address) == (FROZEN_NOW, "203.0.113.9")

        clock.shift(timedelta(seconds=1))
        with django_assert_num_queries(2):
            assert token_authenticate(raw, address="198.51.100.7") is not None
        token.refresh_from_db()
        assert (token.last_used_at, token.last_used_address) == (FROZEN_NOW + timedelta(minutes=1), "198.51.100.7")


def test_when_two_requests_read_a_stale_last_use_only_the_first_writes_it(member, monkeypatch):
    """The write is an UPDATE … WHERE last_used_at is still stale: a request that read the
    token before another noted its use leaves that note alone."""
    token, raw = token_create(member, "laptop")
    address_of = tokens._ip_address

    def meanwhile_another_request_writes(address):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=FROZEN_NOW, last_used_address="192.0.2.1")
        return address_of(address)

    with time_machine.travel(FROZEN_NOW, tick=False):
        monkeypatch.setattr(tokens, "_ip_address", meanwhile_another_request_writes)
        found = token_authenticate(raw, address="203.0.113.9")
    assert found is not None and found.last_used_address is None, "this request noted nothing"
    token.refresh_from_db()
    assert token.last_used_address == "192.0.2.1"


@pytest.mark.parametrize(
    ("address", "stored"),
    [
        (None, None),
        ("", None),
        ("unknown", None),
        ("203.0.113.9", "203.0.113.9"),
        ("2001:DB8::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_the_last_used_address_is_stored_only_when_it_is_an_ip_address(member, address, stored):
    token, raw = token_create(member, "laptop")
    assert token_authenticate(raw, address=address) is not None
    token.refresh_from_db()
    assert token.last_used_address == stored


# --- Revoke -------------------------------------------------------------------------------


def test_revoking_is_audited_once_and_revoking_again_does_nothing(member):
    token, raw = token_create(member, "laptop")

    assert token_revoke(token, by=member) is True
    assert token_revoke(token, by=member) is False

    entry = AuditEntry.objects.get(action="token.revoke")
    assert (entry.actor, entry.target_id, entry.before) == (member, str(token.pk), {"revoked_at": None})
    assert entry.summary == f"alice: laptop ({token.prefix}…)"
    assert raw[12:] not in f"{entry.summary} {entry.after}"
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_a_member_cannot_revoke_another_members_token_but_an_admin_can(member, other_member, admin_user):
    token, raw = token_create(member, "laptop")

    with pytest.raises(PermissionDenied):
        token_revoke(token, by=other_member)
    assert token_authenticate(raw) is not None

    assert token_revoke(token, by=admin_user)
    assert token_authenticate(raw) is None
    assert AuditEntry.objects.get(action="token.revoke").actor == admin_user
