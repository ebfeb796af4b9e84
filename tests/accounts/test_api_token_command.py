"""manage.py api_token: create a member's token (printed once) and revoke one by id or prefix."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command, load_command_class
from django.db import connections

from accounts.models import ApiToken
from accounts.tokens import token_authenticate, token_create
from audit.models import AuditEntry
from tests.world import FROZEN_NOW

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_the_token_alone_on_stdout_and_it_works(member):
    out, err = run("create", "alice", "--name", "ci job")

    raw = out.strip()
    token = token_authenticate(raw)
    assert token is not None and token.user == member and token.name == "ci job"
    assert not token.read_only and token.expires_at is None and token.created_by is None
    assert "for alice" in err and "shown only now" in err and raw not in err
    entry = AuditEntry.objects.get(action="token.create")
    assert entry.actor is None and raw[12:] not in str(entry.after)


def test_create_with_an_expiry_in_days_and_read_only(member):
    with time_machine.travel(FROZEN_NOW, tick=False):
        out, err = run("create", "alice", "--name", "dashboard", "--expires", "30", "--read-only")
    token = ApiToken.objects.get(name="dashboard")
    assert token.read_only and token.expires_at == FROZEN_NOW + timedelta(days=30)
    assert token.prefix == out.strip()[:12]
    assert f"expires {(FROZEN_NOW + timedelta(days=30)).strftime('%Y-%m-%d %H:%M')} UTC." in err


def test_create_refuses_an_unknown_or_deactivated_user_a_bad_expiry_and_an_empty_name(member):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run("create", "nobody", "--name", "x")
    with pytest.raises(CommandError, match="--expires"):
        run("create", "alice", "--name", "x", "--expires", "0")
    with pytest.raises(CommandError, match="name"):
        run("create", "alice", "--name", " ")
    member.is_active = False
    member.save()
    with pytest.raises(CommandError, match="alice is deactivated"):
        run("create", "alice", "--name", "x")
    assert not ApiToken.objects.exists()


def test_an_unknown_user_on_the_command_line_is_one_line_of_error_without_traceback(member, capsys, monkeypatch):
    """As `manage.py` runs it (without setting Django up again, which would send this process's
    logging to the captured stderr)."""
    monkeypatch.setattr(connections, "close_all", lambda: None)  # the test's transaction stays open
    command = load_command_class("accounts", "api_token")
    with pytest.raises(SystemExit) as exited:
        command.run_from_argv(["manage.py", "api_token", "create", "nobody", "--name", "x"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err == "CommandError: No user named 'nobody'.\n"


def test_revoke_by_id_or_by_the_prefix_shown_in_lists(member):
    first, first_raw = token_create(member, "one")
    second, second_raw = token_create(member, "two")

    out, _err = run("revoke", "--id", str(first.pk))
    assert f"Revoked token {first.pk} “one” of alice." in out
    out, _err = run("revoke", "--prefix", f"{second.prefix}…")
    assert "“two”" in out
    assert token_authenticate(first_raw) is None and token_authenticate(second_raw) is None
    assert AuditEntry.objects.filter(action="token.revoke", actor=None).count() == 2
    out, _err = run("revoke", "--id", str(first.pk))
    assert "was already revoked" in out


def test_revoke_refuses_an_unknown_token_a_short_prefix_or_no_choice(member):
    token, _raw = token_create(member, "one")
    with pytest.raises(CommandError, match="No such token"):
        run("revoke", "--id", str(token.pk + 1))
    with pytest.raises(CommandError, match="whole prefix"):
        run("revoke", "--prefix", "dwt_")
    with pytest.raises(CommandError, match="one of the arguments --id --prefix is required"):
        run("revoke")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
