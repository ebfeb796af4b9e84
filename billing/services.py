"""Quotas and cost accounting: reserve at submit, settle or refund at the end.

Money rules kept here:
- what a member spent in a period is the sum of their ledger entries in it
  (positive spends, negative gives back); nothing is edited in place, so every
  balance can be audited line by line. Amounts are `Decimal`, 4 places.
- the limits are checked and the cost reserved in the transaction that creates
  the prediction, with the member's quota row locked (`select_for_update`), and
  the team settings row too when a team budget is set: simultaneous submissions
  wait for each other where they share a budget and can never spend the same
  money twice; without a team budget, members do not wait for each other.
- a prediction is settled once, in the transaction that ends it (predictions.settlement
  decides what it owes and writes it with `prediction_charge`).

Billing knows predictions only as `Chargeable` rows handed to it; the predictions app
calls down into it (`quota_reserve` and `reservation_record` inside prediction_create's
transaction) and registers a `UsageSource` for what billing must count of predictions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Subquery, Sum
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.services import audit_record
from billing import alerts
from billing.models import (
    BudgetAlert,
    LedgerEntry,
    LedgerKind,
    MemberQuota,
    Period,
    TeamSettings,
    default_alert_thresholds,
)
from catalog import specs as catalog
from catalog.inputs import ModelSpec
from common import permissions
from common.db import Prepared
from notifications import selectors as notification_selectors

if TYPE_CHECKING:
    from predictions.models import User

# The ledger's precision (LedgerEntry.amount has 4 decimal places).
PLACES = Decimal("0.0001")
ZERO = Decimal("0")


class Chargeable(Protocol):
    """What billing reads of a prediction (predictions.models.Prediction is one)."""

    pk: Any
    owner_id: int
    model_id: str
    input: Any
    price: Decimal
    estimated_cost: Decimal
    created_at: datetime


@dataclass(frozen=True)
class UsageSource:
    """What billing asks of the app that makes predictions, registered in its AppConfig.ready():
    how many predictions a member has in flight (`unknown` left out: nothing is running for
    it any more, and counting it would lock a member out after a few lost answers until an
    admin resolves them; its money is still held by its reservation), and what DeerAPI has
    charged the team over every settled prediction."""

    in_flight: Callable[[int], int]
    recorded_cost: Callable[[], Decimal]


_usage_source: UsageSource | None = None


def usage_source_register(source: UsageSource) -> None:
    global _usage_source
    _usage_source = source


def _usage() -> UsageSource:
    if _usage_source is None:
        raise ImproperlyConfigured("billing needs a UsageSource: the predictions app registers it")
    return _usage_source


def in_flight_count(user_id: int) -> int:
    """The member's predictions DeerWeb is still working on (what the in-flight limit counts)."""
    return _usage().in_flight(user_id)


def recorded_cost() -> Decimal:
    """What DeerWeb recorded DeerAPI charging the team, over every settled prediction."""
    return _usage().recorded_cost()


# What a member may change on their quota through `quota_update`.
QUOTA_FIELDS = ("budget", "period", "max_in_flight", "allowed_models", "auto_approve", "alert_thresholds")
TEAM_FIELDS = (
    "default_budget",
    "default_period",
    "default_max_in_flight",
    "team_monthly_budget",
    "embed_download_metadata",
    "alert_thresholds",
    "team_alert_thresholds",
)


class Limit:
    BUDGET = "budget"
    IN_FLIGHT = "in_flight"
    MODEL = "model"
    TEAM_BUDGET = "team_budget"


class QuotaExceeded(Exception):
    """A submission over a limit; nothing was saved or sent.

    `message` is for the member: which limit, what is left and when it resets.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: str,
        remaining: Decimal | int | None = None,
        resets_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.remaining = remaining
        self.resets_at = resets_at


# --- Money and periods --------------------------------------------------------------


def money(amount: Decimal) -> Decimal:
    return amount.quantize(PLACES)


def format_usd(amount: Decimal | None) -> str:
    """`$1.50`, `$0.003`, `-$0.04`: two decimals at least, four at most."""
    if amount is None:
        return ""
    value = money(amount)
    text = f"{abs(value):,.4f}".rstrip("0")
    whole, _dot, cents = text.partition(".")
    return f"{'-' if value < 0 else ''}${whole}.{cents.ljust(2, '0')}"


def period_bounds(period: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The current day, week (from Monday) or month around `now`, in DeerWeb's time
    zone; None for a period of `none`."""
    today = timezone.localdate(now)
    if period == Period.DAY:
        start, end = today, today + timedelta(days=1)
    elif period == Period.WEEK:
        start = today - timedelta(days=today.weekday())
        end = start + timedelta(days=7)
    elif period == Period.MONTH:
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        return None
    return midnight(start), midnight(end)


def midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def format_moment(moment: datetime) -> str:
    """When a limit resets, in words: "July 1, 2025, midnight UTC"."""
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


PERIOD_LEFT: dict[str, Promise] = {
    Period.DAY: gettext_lazy("Left today"),
    Period.WEEK: gettext_lazy("Left this week"),
    Period.MONTH: gettext_lazy("Left this month"),
}


def images_requested(spec: ModelSpec, input: Mapping[str, Any]) -> int:
    """How many images a submission asks for: `num_outputs` where the model has it, else 1."""
    field = spec.field("num_outputs")
    if field is None:
        return 1
    value = input.get("num_outputs", field.default)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def run_cost(spec: ModelSpec, input: Mapping[str, Any]) -> Decimal:
    """What a submission is reserved at: the model's price per image times the images it asks
    for. `quota_reserve` charges it; the new-prediction form previews it before a submit."""
    return money(spec.price * images_requested(spec, input))


# --- Limits ------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """A member's limits: their own quota row, or the team defaults without one."""

    budget: Decimal | None
    period: str
    max_in_flight: int | None
    allowed_models: tuple[str, ...]
    own: bool

    @property
    def has_budget(self) -> bool:
        return self.budget is not None and self.period != Period.NONE

    @property
    def period_label(self) -> str:
        return str(Period(self.period).label)

    @classmethod
    def of(cls, quota: MemberQuota) -> Limits:
        return cls(quota.budget, quota.period, quota.max_in_flight, tuple(quota.allowed_models or ()), True)

    @classmethod
    def default(cls, team: TeamSettings | None) -> Limits:
        if team is None:
            return cls(None, Period.MONTH, None, (), False)
        return cls(team.default_budget, team.default_period, team.default_max_in_flight, (), False)


def limits_of(user: User) -> Limits:
    """A member's limits as they stand (read-only: no row is created)."""
    quota = MemberQuota.objects.filter(user_id=user.pk).first()
    return Limits.of(quota) if quota else Limits.default(TeamSettings.objects.filter(pk=1).first())


def spent_between(user_id: int | None, start: datetime, end: datetime) -> Decimal:
    """The net of the ledger entries in [start, end): one member's, or the team's with None."""
    entries = LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
    if user_id is not None:
        entries = entries.filter(user_id=user_id)
    return entries.aggregate(total=Sum("amount"))["total"] or ZERO


def _team_settings_locked() -> TeamSettings:
    """The team row, locked (created the first time): for changes to it."""
    team = TeamSettings.objects.select_for_update().filter(pk=1).first()
    if team is None:
        # ON CONFLICT DO NOTHING: two first-ever writers may both get here.
        TeamSettings.objects.bulk_create([TeamSettings(pk=1)], ignore_conflicts=True)
        team = TeamSettings.objects.select_for_update().get(pk=1)
    return team


def _team_settings_for_submit() -> TeamSettings:
    """The team row, locked only when a team budget is set.

    Without a team budget nothing team-wide is checked, so members' submissions need not
    wait for each other: the row is read without a lock (its defaults only seed a new
    member's quota). With one, the row is locked as it is read, so concurrent submissions
    are checked against the team's month one after another.
    """
    # One statement when a team budget is set: it locks the row only then.
    team = TeamSettings.objects.select_for_update().filter(pk=1, team_monthly_budget__isnull=False).first()
    if team is None:
        team = TeamSettings.objects.filter(pk=1).first()
        if team is None or team.team_monthly_budget is not None:  # the first ever, or set since
            team = _team_settings_locked()
    return team


def _member_quota_locked(user_id: int, team: TeamSettings) -> MemberQuota:
    """The member's quota row, locked; created from the team defaults the first time.

    The team defaults are "the default for new members": they are copied into the
    member's own row when it is first needed, and an admin edits it from then on.
    """
    quota = MemberQuota.objects.select_for_update().filter(user_id=user_id).first()
    if quota is None:
        MemberQuota.objects.bulk_create(
            [
                MemberQuota(
                    user_id=user_id,
                    budget=team.default_budget,
                    period=team.default_period,
                    max_in_flight=team.default_max_in_flight,
                )
            ],
            ignore_conflicts=True,
        )
        quota = MemberQuota.objects.select_for_update().get(user_id=user_id)
    return quota


def quota_reserve(prediction: Chargeable, spec: ModelSpec) -> None:
    """Price an unsaved prediction and check every limit before it is saved.

    Runs inside services.prediction_create's transaction: the locks taken here
    are held until the prediction and its reserve entry are committed, so the
    next submission of the member (or of the team, for the team budget) sees
    them. Raises `QuotaExceeded`; the transaction then saves nothing.
    """
    prediction.price = spec.price
    prediction.estimated_cost = run_cost(spec, prediction.input)
    cost = prediction.estimated_cost
    now = prediction.created_at or timezone.now()

    # Lock order: the team row (when locked at all) before the member's, in every submission.
    team = _team_settings_for_submit()
    quota = _member_quota_locked(prediction.owner_id, team)
    limits = Limits.of(quota)

    if limits.allowed_models and spec.id not in limits.allowed_models:
        names = [m.name if (m := catalog.get_model(model_id)) else model_id for model_id in limits.allowed_models]
        raise QuotaExceeded(
            _("Your account may not use %(model)s. Models you may use: %(allowed)s.")
            % {"model": spec.name, "allowed": ", ".join(names)},
            limit=Limit.MODEL,
        )

    if limits.max_in_flight is not None:
        running = in_flight_count(prediction.owner_id)
        if running >= limits.max_in_flight:
            raise QuotaExceeded(
                ngettext(
                    "You already have %(n)d prediction in flight, the most your account may have at once "
                    "(%(max)d). Submit again when it has finished.",
                    "You already have %(n)d predictions in flight, the most your account may have at once "
                    "(%(max)d). Submit again when one has finished.",
                    running,
                )
                % {"n": running, "max": limits.max_in_flight},
                limit=Limit.IN_FLIGHT,
                remaining=0,
            )

    bounds = period_bounds(limits.period, now)
    member_spent: Decimal | None = None
    if limits.budget is not None and bounds is not None:
        spent = member_spent = spent_between(prediction.owner_id, *bounds)
        if spent + cost > limits.budget:
            left = max(ZERO, limits.budget - spent)
            raise QuotaExceeded(
                _(
                    "Over your budget: this prediction costs about %(cost)s, and %(left)s of your "
                    "%(budget)s %(period)s budget is left. It starts again on %(reset)s."
                )
                % {
                    "cost": format_usd(cost),
                    "left": format_usd(left),
                    "budget": format_usd(limits.budget),
                    "period": Period(limits.period).label.lower(),
                    "reset": format_moment(bounds[1]),
                },
                limit=Limit.BUDGET,
                remaining=left,
                resets_at=bounds[1],
            )

    team_spent: Decimal | None = None
    month = period_bounds(Period.MONTH, now)
    assert month is not None
    if team.team_monthly_budget is not None:
        spent = team_spent = spent_between(None, *month)
        if spent + cost > team.team_monthly_budget:
            left = max(ZERO, team.team_monthly_budget - spent)
            raise QuotaExceeded(
                _(
                    "Over the team's budget: this prediction costs about %(cost)s, and %(left)s of the "
                    "team's %(budget)s for this month is left. It starts again on %(reset)s."
                )
                % {
                    "cost": format_usd(cost),
                    "left": format_usd(left),
                    "budget": format_usd(team.team_monthly_budget),
                    "reset": format_moment(month[1]),
                },
                limit=Limit.TEAM_BUDGET,
                remaining=left,
                resets_at=month[1],
            )

    # Every limit passed: the thresholds this reservation reaches are recorded with it.
    language = getattr(prediction, "language", "") or ""
    if member_spent is not None and bounds is not None and limits.budget is not None:
        alerts.alerts_reach(
            prediction.owner_id,
            alert_thresholds_of(quota, team),
            limits.budget,
            member_spent + cost,
            bounds,
            language=language,
            now=now,
        )
    if team_spent is not None and team.team_monthly_budget is not None:
        alerts.alerts_reach(
            None, team.team_alert_thresholds, team.team_monthly_budget, team_spent + cost, month, now=now
        )


# --- Budget alerts ------------------------------------------------------------------------


def alert_thresholds_of(quota: MemberQuota | None, team: TeamSettings | None) -> list[int]:
    """The thresholds of a member's budget: their own, else the team's, else the defaults."""
    if quota is not None and quota.alert_thresholds is not None:
        return quota.alert_thresholds
    return team.alert_thresholds if team is not None else default_alert_thresholds()


def budget_alerts_check(user_id: int, now: datetime | None = None) -> list[BudgetAlert]:
    """The thresholds a member's and the team's spending reached after a charge outside a submission
    (a settlement above the estimate, an admin's adjustment). Call it in that charge's transaction."""
    now = now or timezone.now()
    team = TeamSettings.objects.filter(pk=1).first()
    quota = MemberQuota.objects.filter(user_id=user_id).first()
    limits = Limits.of(quota) if quota else Limits.default(team)
    raised: list[BudgetAlert] = []
    bounds = period_bounds(limits.period, now)
    if limits.budget is not None and bounds is not None:
        raised += alerts.alerts_reach(
            user_id, alert_thresholds_of(quota, team), limits.budget, spent_between(user_id, *bounds), bounds, now=now
        )
    if team is not None and team.team_monthly_budget is not None:
        month = period_bounds(Period.MONTH, now)
        assert month is not None
        raised += alerts.alerts_reach(
            None, team.team_alert_thresholds, team.team_monthly_budget, spent_between(None, *month), month, now=now
        )
    return raised


def reservation_record(prediction: Chargeable) -> None:
    """The reserve entry of a just-saved prediction (same transaction as `quota_reserve`)."""
    LedgerEntry.objects.create(
        user_id=prediction.owner_id,
        prediction_id=prediction.pk,
        kind=LedgerKind.RESERVE,
        amount=prediction.estimated_cost,
        model_id=prediction.model_id,
        created_at=prediction.created_at,
    )


# --- A prediction's charges (predictions.settlement decides them) ------------------------


def prediction_charged(prediction_id: int) -> tuple[Decimal, int]:
    """What the member has been charged for a prediction so far, and how many
    settle or refund entries it has."""
    totals = LedgerEntry.objects.filter(prediction_id=prediction_id).aggregate(
        net=Sum("amount"), finals=Count("pk", filter=Q(kind__in=(LedgerKind.SETTLE, LedgerKind.REFUND)))
    )
    return totals["net"] or ZERO, totals["finals"]


def admin_required(user: User) -> None:
    """Only admins manage quotas and the ledger."""
    if not permissions.is_admin(user):
        raise PermissionDenied("only admins manage quotas and the ledger")


def prediction_charge(prediction: Chargeable, kind: str, amount: Decimal, *, by: User | None = None) -> LedgerEntry:
    """A ledger entry about a prediction: its settlement, a refund or an admin's resolution.

    Call it inside the transaction that locks the prediction's row, after reading
    `prediction_charged`, so a prediction is never settled twice. A charge above what was
    reserved may reach a budget alert's threshold."""
    entry = LedgerEntry.objects.create(
        user_id=prediction.owner_id,
        prediction_id=prediction.pk,
        kind=kind,
        amount=amount,
        model_id=prediction.model_id,
        created_by=by,
    )
    if amount > 0:
        budget_alerts_check(prediction.owner_id, entry.created_at)
    return entry


def ledger_adjust(user: User, amount: Decimal, reason: str, *, by: User) -> LedgerEntry:
    """An admin's correction to what a member spent: positive charges, negative gives back.

    It counts in the period it is made in. Raises ValueError (a message for the
    admin) for a zero amount or a missing reason.
    """
    admin_required(by)
    amount = money(Decimal(amount))
    reason = reason.strip()
    if not amount:
        raise ValueError(_("Enter an amount other than zero."))
    if not reason:
        raise ValueError(_("Say why: the member sees the reason in their ledger."))
    with transaction.atomic():
        entry = LedgerEntry.objects.create(
            user=user, kind=LedgerKind.ADJUSTMENT, amount=amount, reason=reason[:300], created_by=by
        )
        audit_record(
            actor=by,
            action="ledger.adjust",
            target=entry,
            summary=f"{user.get_username()}: {format_usd(amount)} ({reason})"[:300],
            after={"user": user.get_username(), "amount": amount, "reason": reason},
        )
        if amount > 0:
            budget_alerts_check(user.pk, entry.created_at)
    return entry


# --- Changing limits ------------------------------------------------------------------


def _changed(obj: Any, changes: Mapping[str, Any], allowed: tuple[str, ...]) -> tuple[dict, dict]:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"not a limit: {', '.join(sorted(unknown))}")
    before, after = {}, {}
    for name, value in changes.items():
        if name == "allowed_models":
            value = sorted(set(value or []))
        if getattr(obj, name) != value:
            before[name], after[name] = getattr(obj, name), value
    return before, after


def quota_update(user: User, changes: Mapping[str, Any], *, by: User) -> MemberQuota:
    """Change a member's limits (creating their quota row from the team defaults
    if they have none); writes a "quota.change" audit entry when something changed."""
    admin_required(by)
    with transaction.atomic():
        team = _team_settings_locked()
        quota = _member_quota_locked(user.pk, team)
        before, after = _changed(quota, changes, QUOTA_FIELDS)
        if after:
            for name, value in after.items():
                setattr(quota, name, value)
            quota.save(update_fields=[*after, "updated_at"])
            audit_record(
                actor=by,
                action="quota.change",
                target=quota,
                summary=f"{user.get_username()}: {', '.join(after)}",
                before=before,
                after=after,
            )
    return quota


def team_settings_update(changes: Mapping[str, Any], *, by: User) -> TeamSettings:
    """Change the team defaults or the team's monthly budget; audited like a member's quota."""
    admin_required(by)
    with transaction.atomic():
        team = _team_settings_locked()
        before, after = _changed(team, changes, TEAM_FIELDS)
        if after:
            for name, value in after.items():
                setattr(team, name, value)
            team.save(update_fields=[*after, "updated_at"])
            audit_record(
                actor=by,
                action="quota.change",
                target=team,
                summary=f"team: {', '.join(after)}",
                before=before,
                after=after,
            )
    return team


# --- What a member has left -------------------------------------------------------------


@dataclass(frozen=True)
class BudgetStatus:
    """What the page header and the usage page show about a member's budget,
    with DeerAPI's health flags for the admin banners."""

    limits: Limits
    spent: Decimal
    starts_at: datetime | None
    resets_at: datetime | None
    balance_empty_since: datetime | None
    key_rejected_since: datetime | None
    unread_notifications: int = 0

    @property
    def unlimited(self) -> bool:
        return not self.limits.has_budget

    @property
    def budget(self) -> Decimal | None:
        return self.limits.budget if self.limits.has_budget else None

    @property
    def remaining(self) -> Decimal | None:
        return None if self.budget is None else max(ZERO, self.budget - self.spent)

    @property
    def left_label(self) -> str:
        return str(PERIOD_LEFT.get(self.limits.period, ""))


def _budget_row(user_id: int) -> QuerySet[Any]:
    # The member's quota through the join, the team's row in subqueries.
    team = TeamSettings.objects.filter(pk=1)
    return (
        get_user_model()
        .objects.filter(pk=user_id)
        .values_list(
            "quota__id",
            "quota__budget",
            "quota__period",
            "quota__max_in_flight",
            "quota__allowed_models",
            Subquery(team.values("default_budget")[:1]),
            Subquery(team.values("default_period")[:1]),
            Subquery(team.values("default_max_in_flight")[:1]),
            Subquery(team.values("deerapi_balance_empty_since")[:1]),
            Subquery(team.values("deerapi_key_rejected_since")[:1]),
            # Not a budget, but on every page beside it: the header's count, in the same query.
            notification_selectors.unread_count_subquery(),
        )
    )


def _member_spent(user_id: int, start: datetime, end: datetime) -> QuerySet[Any]:
    """`spent_between` for one member, as a query of one row (none without entries)."""
    entries = LedgerEntry.objects.filter(user_id=user_id, created_at__gte=start, created_at__lt=end)
    return entries.order_by().values("user_id").annotate(total=Sum("amount")).values_list("total")


# Every page shows the budget in its header: the ORM's time to build these two queries was
# most of their cost, so they are built once (common/db.py) and only run here.
_BUDGET_ROW = Prepared(_budget_row, -1_000_001)
_MEMBER_SPENT = Prepared(_member_spent, -1_000_001, datetime(1901, 1, 1, tzinfo=UTC), datetime(1901, 1, 2, tzinfo=UTC))


def budget_status(user: User, now: datetime | None = None) -> BudgetStatus:
    """A member's limits, what is left this period and their unread notifications: two queries
    (one without a budget)."""
    now = now or timezone.now()
    (values,) = _BUDGET_ROW.rows(user.pk)
    names = (
        *("own", "budget", "period", "max_in_flight", "allowed_models"),
        *("default_budget", "default_period", "default_max_in_flight", "balance_empty_since", "key_rejected_since"),
        "unread_notifications",
    )
    row = dict(zip(names, values, strict=True))
    if row["own"] is not None:
        limits = Limits(row["budget"], row["period"], row["max_in_flight"], tuple(row["allowed_models"] or ()), True)
    else:
        limits = Limits(
            row["default_budget"], row["default_period"] or Period.MONTH, row["default_max_in_flight"], (), False
        )
    bounds = period_bounds(limits.period, now)
    spent = ZERO
    if bounds and limits.budget is not None:
        spent = next(iter(_MEMBER_SPENT.rows(user.pk, *bounds)), (None,))[0] or ZERO
    return BudgetStatus(
        limits=limits,
        spent=spent,
        starts_at=bounds[0] if bounds else None,
        resets_at=bounds[1] if bounds else None,
        balance_empty_since=row["balance_empty_since"],
        key_rejected_since=row["key_rejected_since"],
        unread_notifications=row["unread_notifications"] or 0,
    )
