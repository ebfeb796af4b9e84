"""Reads of the ledger for the usage pages: entries, spending by day and model, by member, and
the forecast of a period's end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from billing import deerapi_account
from billing import services as billing
from billing.models import LedgerEntry, Period, TeamSettings

if TYPE_CHECKING:
    from predictions.models import User


def ledger_entries(
    *, user_id: int | None, start: datetime, end: datetime, kind: str = "", model_id: str = ""
) -> QuerySet[LedgerEntry]:
    """Ledger entries in [start, end), newest first: one member's, or the team's with
    `user_id` None (indexes: user+created_at, created_at, model_id+created_at)."""
    qs = LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    if kind:
        qs = qs.filter(kind=kind)
    if model_id:
        qs = qs.filter(model_id=model_id)
    return qs.order_by("-created_at", "-pk")


def spending_by_day_and_model(
    *, user_id: int | None, start: datetime, end: datetime
) -> tuple[list[tuple[date, Decimal]], list[tuple[str, Decimal]]]:
    """Net spending in [start, end) per local day (days with entries only, in order) and per
    model (biggest first; admin adjustments under ""): one pass over the entries, grouped by
    day and model, whose few hundred sums are added up here."""
    rows = (
        ledger_entries(user_id=user_id, start=start, end=end)
        .order_by()
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "model_id")
        .annotate(total=Sum("amount"))
    )
    days: dict[date, Decimal] = {}
    models: dict[str, Decimal] = {}
    for day, model_id, total in rows:
        days[day] = days.get(day, Decimal(0)) + total
        models[model_id] = models.get(model_id, Decimal(0)) + total
    return sorted(days.items()), sorted(models.items(), key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class MemberSpending:
    member: User
    spent: Decimal  # in the chosen dates
    now: dict[str, Decimal]  # in each current period ("day", "week", "month")


def member_spending(
    *, start: datetime, end: datetime, periods: dict[str, tuple[datetime, datetime]]
) -> list[MemberSpending]:
    """Every account (with its quota row) and what it spent in [start, end) and in each
    current period of `periods`, biggest spender first.

    Two queries whatever the size of the ledger: sums grouped by member over one range of
    dates (index: created_at), each sum with its own FILTER, and the accounts. The chosen
    dates are summed apart (a third query) only when they do not overlap the current
    periods, so that no gap between them is scanned. (Per-member subqueries would be as
    fast to run, but PostgreSQL's estimate of them is high enough to JIT-compile the
    query, which costs more than running it.)
    """
    spans = [{"spent": (start, end)}]
    if periods:
        since = min(bounds[0] for bounds in periods.values())
        until = max(bounds[1] for bounds in periods.values())
        if start < until and since < end:
            spans[0].update(periods)
        else:
            spans.append(periods)
    sums: dict[int, dict[str, Any]] = {}
    for group in spans:
        since = min(bounds[0] for bounds in group.values())
        until = max(bounds[1] for bounds in group.values())
        totals = {name: Sum("amount", filter=Q(created_at__gte=a, created_at__lt=b)) for name, (a, b) in group.items()}
        for row in (
            LedgerEntry.objects.filter(created_at__gte=since, created_at__lt=until)
            .order_by()
            .values("user_id")
            .annotate(**totals)
        ):
            sums.setdefault(row["user_id"], {}).update(row)
    zero = Decimal("0")
    rows = [
        MemberSpending(
            member=member,
            spent=sums.get(member.pk, {}).get("spent") or zero,
            now={name: sums.get(member.pk, {}).get(name) or zero for name in periods},
        )
        for member in get_user_model().objects.select_related("quota").order_by("username")
    ]
    rows.sort(key=lambda row: row.spent, reverse=True)  # stable: by name among equals
    return rows


@dataclass(frozen=True)
class Forecast:
    """Where spending in a period is heading at the pace so far: `projected` by the period's last
    day (None: too early to tell), against `budget` (None: unlimited)."""

    spent: Decimal
    projected: Decimal | None
    budget: Decimal | None
    last_day: date

    @property
    def over(self) -> bool:
        return self.projected is not None and self.budget is not None and self.projected > self.budget


def forecast(spent: Decimal, bounds: tuple[datetime, datetime], now: datetime, budget: Decimal | None) -> Forecast:
    """A straight line from the period's start through what is spent now, to the period's end.

    Too early (None) before a day of a week or month has gone by (six hours of a day), or with
    nothing spent: a line through the first hour's runs says little."""
    start, end = bounds
    elapsed = (min(now, end) - start).total_seconds()
    length = (end - start).total_seconds()
    last_day = timezone.localdate(end - timedelta(microseconds=1))
    projected = None
    if spent > 0 and elapsed >= min(24 * 3600, length / 4):
        projected = (spent * Decimal(length) / Decimal(elapsed)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Forecast(spent=spent, projected=projected, budget=budget, last_day=last_day)


# --- The home page ------------------------------------------------------------------


def share_spent(spent: Decimal, budget: Decimal | None) -> int | None:
    """The percentage of `budget` spent, 0 to 100 (None without a budget)."""
    if budget is None:
        return None
    if budget <= 0:
        return 100
    return max(0, min(100, int(spent * 100 / budget)))


@dataclass(frozen=True)
class PeriodSpending:
    """What a member spent in their budget's current period, against that budget. Without a
    budget, what they spent this month (or in their period, if it has one)."""

    status: billing.BudgetStatus  # the header's budget, read once for both
    spent: Decimal
    period: str
    resets_at: datetime | None

    @property
    def budget(self) -> Decimal | None:
        return self.status.budget

    @property
    def remaining(self) -> Decimal | None:
        return self.status.remaining

    @property
    def percent(self) -> int | None:
        return share_spent(self.spent, self.budget)


def member_period_spending(user: User, now: datetime | None = None) -> PeriodSpending:
    """Two queries with a budget (the header's `budget_status`), three without one."""
    now = now or timezone.now()
    status = billing.budget_status(user, now)
    if status.budget is not None:
        return PeriodSpending(
            status=status, spent=status.spent, period=status.limits.period, resets_at=status.resets_at
        )
    period = status.limits.period if status.limits.period != Period.NONE else Period.MONTH
    start, end = billing.period_bounds(period, now) or (now, now)
    return PeriodSpending(status=status, spent=billing.spent_between(user.pk, start, end), period=period, resets_at=end)


@dataclass(frozen=True)
class TeamMonth:
    """For admins: what the team spent this month against its monthly budget, and DeerAPI's
    balance as last read (None before the first reading)."""

    spent: Decimal
    budget: Decimal | None
    resets_at: datetime
    balance: deerapi_account.BalanceReport | None

    @property
    def percent(self) -> int | None:
        return share_spent(self.spent, self.budget)


def team_month_spending(now: datetime | None = None) -> TeamMonth:
    """Two queries: the team's settings and one sum over this month's ledger (index: created_at)."""
    now = now or timezone.now()
    bounds = billing.period_bounds(Period.MONTH, now)
    assert bounds is not None
    team = TeamSettings.objects.filter(pk=1).first()
    return TeamMonth(
        spent=billing.spent_between(None, *bounds),
        budget=team.team_monthly_budget if team else None,
        resets_at=bounds[1],
        balance=deerapi_account.balance_report(team),
    )
