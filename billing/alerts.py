"""Budget alerts: the thresholds of a budget, and recording each one reached once per period.

Alerts count what is committed: the ledger's net in the period, so a running prediction's
reservation counts from its submission (the alert comes as the run starts, not when it ends),
and a settlement or refund moves it to the actual cost. Called by billing.services inside the
transaction that spends; the `budget_alert_raised` signal tells the apps that deliver alerts.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing.models import AlertSubject, BudgetAlert
from billing.signals import budget_alert_raised

ALERT_THRESHOLD_MIN = 1
ALERT_THRESHOLD_MAX = 1000
ALERT_THRESHOLDS_MAX = 10


def alert_thresholds_parse(text: str) -> list[int]:
    """ "80, 100" -> [80, 100]: whole percentages of a budget, 1 to 1000, distinct, returned in
    order. Empty text gives []. Raises ValueError with a message for the admin."""
    parts = [part.strip().removesuffix("%").strip() for part in text.replace(";", ",").split(",")]
    parts = [part for part in parts if part]
    values: list[int] = []
    for part in parts:
        if not part.isdigit():
            raise ValueError(
                _("“%(value)s” is not a whole percentage: write thresholds like “80, 100”.") % {"value": part[:20]}
            )
        value = int(part)
        if not ALERT_THRESHOLD_MIN <= value <= ALERT_THRESHOLD_MAX:
            raise ValueError(
                _("Each threshold must be from %(min)d%% to %(max)d%% of the budget.")
                % {"min": ALERT_THRESHOLD_MIN, "max": ALERT_THRESHOLD_MAX}
            )
        if value in values:
            raise ValueError(_("%(value)d%% is there twice: give each threshold once.") % {"value": value})
        values.append(value)
    if len(values) > ALERT_THRESHOLDS_MAX:
        raise ValueError(_("Give at most %(n)d thresholds.") % {"n": ALERT_THRESHOLDS_MAX})
    return sorted(values)


def alert_thresholds_text(values: list[int] | tuple[int, ...] | None) -> str:
    return ", ".join(str(value) for value in values or ())


def alerts_reach(
    user_id: int | None,
    thresholds: list[int] | None,
    budget: Decimal,
    committed: Decimal,
    bounds: tuple[datetime, datetime],
    *,
    language: str = "",
    now: datetime,
) -> list[BudgetAlert]:
    """Record the thresholds of a budget `committed` has reached in the period `bounds` and that
    were not recorded yet (a member's with `user_id`, the team's with None); signal the highest new one.

    No query unless a threshold is reached; then one read, and one insert per new threshold in a
    savepoint: the unique constraint makes a concurrent or repeated one a no-op, so each threshold
    alerts once per period. Call it inside the transaction that spends.
    """
    if budget <= 0 or not thresholds:
        return []
    reached = [t for t in thresholds if committed * 100 >= budget * t]
    if not reached:
        return []
    subject = AlertSubject.MEMBER if user_id is not None else AlertSubject.TEAM
    key = f"member:{user_id}" if user_id is not None else "team"
    known = set(
        BudgetAlert.objects.filter(subject_key=key, period_start=bounds[0], threshold__in=reached).values_list(
            "threshold", flat=True
        )
    )
    created: list[BudgetAlert] = []
    for threshold in reached:
        if threshold in known:
            continue
        try:
            with transaction.atomic():
                created.append(
                    BudgetAlert.objects.create(
                        subject=subject,
                        subject_key=key,
                        user_id=user_id,
                        threshold=threshold,
                        period_start=bounds[0],
                        period_end=bounds[1],
                        budget=budget,
                        spent=committed.quantize(Decimal("0.0001")),
                        language=language[:20],
                        created_at=now,
                    )
                )
        except IntegrityError:
            continue  # recorded meanwhile by another transaction
    if created:
        budget_alert_raised.send(sender=BudgetAlert, alert=max(created, key=lambda alert: alert.threshold))
    return created
