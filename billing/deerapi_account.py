"""DeerAPI's own account as DeerWeb last saw it: the balance snapshot a beat task takes
(so no page waits on DeerAPI), the alerts a rejected key or an empty balance raise, and the
/healthz warning they give."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import TeamSettings
from deerapi.client import DeerAPIClient, DeerAPIError, get_client

if TYPE_CHECKING:
    pass

from billing.services import ZERO, recorded_cost


@dataclass(frozen=True)
class DeerAPIAlerts:
    """Since when DeerAPI has refused the team's balance or key (None: it has not)."""

    balance_empty_since: datetime | None
    key_rejected_since: datetime | None


def deerapi_alerts() -> DeerAPIAlerts:
    """The admins' banners without a member's budget: one query."""
    row = (
        TeamSettings.objects.filter(pk=1)
        .values_list("deerapi_balance_empty_since", "deerapi_key_rejected_since")
        .first()
    )
    return DeerAPIAlerts(*(row or (None, None)))


# When this process last cleared the banners on an accepted create (time.monotonic()): it does so
# at most every BANNERS_CLEAR_EVERY seconds, not with a statement per create. A banner raised
# in this process is cleared by the next accepted create; one raised elsewhere within that time.
BANNERS_CLEAR_EVERY = 5.0

_banners_cleared_at: float | None = None


def deerapi_balance_empty() -> None:
    """DeerAPI said its balance is exhausted: admins see a banner until a create succeeds."""
    global _banners_cleared_at
    _banners_cleared_at = None
    TeamSettings.objects.bulk_create([TeamSettings(pk=1)], ignore_conflicts=True)
    TeamSettings.objects.filter(pk=1, deerapi_balance_empty_since__isnull=True).update(
        deerapi_balance_empty_since=timezone.now()
    )


def deerapi_key_rejected() -> None:
    """DeerAPI rejected the key on a create: admins see a banner until a create succeeds."""
    global _banners_cleared_at
    _banners_cleared_at = None
    TeamSettings.objects.bulk_create([TeamSettings(pk=1)], ignore_conflicts=True)
    TeamSettings.objects.filter(pk=1, deerapi_key_rejected_since__isnull=True).update(
        deerapi_key_rejected_since=timezone.now()
    )


def deerapi_create_accepted() -> None:
    """A create went through: clear the banners (one query, a no-op when none is up; at most
    every BANNERS_CLEAR_EVERY seconds)."""
    global _banners_cleared_at
    now = time.monotonic()
    if _banners_cleared_at is not None and now - _banners_cleared_at < BANNERS_CLEAR_EVERY:
        return
    _banners_cleared_at = now
    TeamSettings.objects.filter(
        Q(deerapi_balance_empty_since__isnull=False) | Q(deerapi_key_rejected_since__isnull=False), pk=1
    ).update(deerapi_balance_empty_since=None, deerapi_key_rejected_since=None)


@dataclass(frozen=True)
class BalanceReport:
    """DeerAPI's account as last read, against what DeerWeb recorded, since the first reading."""

    checked_at: datetime
    username: str
    balance: Decimal
    used: Decimal
    request_count: int | None
    keys: list[dict[str, str]]
    since: datetime
    used_since: Decimal
    recorded_since: Decimal

    @property
    def difference(self) -> Decimal:
        """Positive: DeerAPI counted more than DeerWeb recorded."""
        return self.used_since - self.recorded_since


def balance_report(team: TeamSettings | None) -> BalanceReport | None:
    """The last snapshot of DeerAPI's account (None before the first good reading)."""
    if (
        team is None
        or team.deerapi_checked_at is None
        or team.deerapi_baseline_at is None
        or team.deerapi_balance is None
        or team.deerapi_used is None
    ):
        return None
    return BalanceReport(
        checked_at=team.deerapi_checked_at,
        username=team.deerapi_username,
        balance=team.deerapi_balance,
        used=team.deerapi_used,
        request_count=team.deerapi_request_count,
        keys=team.deerapi_keys or [],
        since=team.deerapi_baseline_at,
        used_since=team.deerapi_used - (team.deerapi_baseline_used or ZERO),
        recorded_since=(team.deerapi_recorded or ZERO) - (team.deerapi_baseline_recorded or ZERO),
    )


def deerapi_balance_refresh_later() -> None:
    """Have a worker read DeerAPI's balance now (the team page's "refresh now")."""
    transaction.on_commit(lambda: current_app.send_task("predictions.tasks.deerapi_balance_refresh"))


def deerapi_balance_refresh(*, client: DeerAPIClient | None = None) -> bool:
    """Read DeerAPI's account balance and usage and keep a snapshot on TeamSettings.

    Run by a beat task (and the team usage page's "refresh now"), never by a web
    request. A failure keeps the last good snapshot and records the error.
    """
    client = client or get_client()
    TeamSettings.objects.bulk_create([TeamSettings(pk=1)], ignore_conflicts=True)
    try:
        account = client.get_balance()
    except DeerAPIError as exc:
        TeamSettings.objects.filter(pk=1).update(
            deerapi_check_error=exc.message[:300], deerapi_check_failed_at=timezone.now()
        )
        return False
    recorded = recorded_cost()
    with transaction.atomic():
        team = TeamSettings.objects.select_for_update().get(pk=1)
        team.deerapi_checked_at = timezone.now()
        team.deerapi_username = account.username[:150]
        team.deerapi_balance = account.balance
        team.deerapi_used = account.used
        team.deerapi_request_count = account.request_count
        team.deerapi_keys = account.keys
        team.deerapi_recorded = recorded
        team.deerapi_check_error = ""
        team.deerapi_check_failed_at = None
        if team.deerapi_baseline_at is None:
            team.deerapi_baseline_at = team.deerapi_checked_at
            team.deerapi_baseline_used = account.used
            team.deerapi_baseline_recorded = recorded
        team.save()
    return True


def deerapi_check(now: datetime) -> dict[str, Any]:
    """/healthz: DeerAPI's state as the worker last saw it; a warning only, never a failure."""
    team = TeamSettings.objects.filter(pk=1).first()
    if team is None:
        return {"warning": False}
    problems = []
    if team.deerapi_key_rejected_since:
        problems.append("key_rejected")
    if team.deerapi_balance_empty_since:
        problems.append("balance_empty")
    if team.deerapi_check_failed_at and (
        team.deerapi_checked_at is None or team.deerapi_check_failed_at > team.deerapi_checked_at
    ):
        problems.append("unreachable")
    return {"warning": bool(problems), "problems": problems}
