"""billing.services: what a submission costs, the limits it is checked against, and the
ledger entries that reserve, settle and refund it (status changes made in-process here;
tests/billing/test_quota_settlement.py drives the same outcomes through a real worker)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEntry
from billing import services as billing
from billing.models import LedgerEntry, LedgerKind, MemberQuota, Period, TeamSettings
from predictions import pipeline, services, settlement
from predictions.models import Prediction, Status
from tests.world import PRO, SCHNELL, ledger, submit

pytestmark = pytest.mark.django_db


def net(user) -> Decimal:
    return sum(LedgerEntry.objects.filter(user=user).values_list("amount", flat=True), Decimal(0))


def limit(user, **fields) -> MemberQuota:
    quota, _created = MemberQuota.objects.update_or_create(user=user, defaults=fields)
    return quota


def finish(prediction, status, **fields) -> Prediction:
    """Move a queued prediction to `status` through the real status machine."""
    path = {
        Status.SUCCEEDED: [Status.SUBMITTING, Status.PROCESSING, Status.STORING, Status.SUCCEEDED],
        Status.FAILED: [Status.SUBMITTING, Status.FAILED],
        Status.UNKNOWN: [Status.SUBMITTING, Status.UNKNOWN],
    }[status]
    old = Status.QUEUED
    for new in path:
        extra = fields if new == status else {}
        assert services.prediction_transition(prediction.pk, old, new, **extra)
        old = new
    prediction.refresh_from_db()
    return prediction


# --- Reserving -------------------------------------------------------------------------


def test_a_submission_reserves_the_price_times_the_images_requested(member):
    prediction = submit(member, num_outputs=3)
    assert prediction.price == Decimal("0.003")
    assert prediction.estimated_cost == Decimal("0.009")
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.009"))]
    entry = prediction.ledger.get()
    assert (entry.user, entry.model_id, entry.created_at) == (member, SCHNELL, prediction.created_at)


def test_a_model_without_num_outputs_is_priced_for_one_image(member):
    prediction = submit(member, model_id=PRO)
    assert prediction.estimated_cost == Decimal("0.04")


def test_a_member_without_limits_of_their_own_gets_the_team_defaults_at_their_first_submission(member):
    TeamSettings.objects.create(pk=1, default_budget=Decimal("2"), default_period=Period.WEEK, default_max_in_flight=3)
    submit(member)
    quota = MemberQuota.objects.get(user=member)
    assert (quota.budget, quota.period, quota.max_in_flight) == (Decimal("2"), Period.WEEK, 3)


def test_over_budget_the_member_is_told_what_is_left_and_when_it_starts_again_and_nothing_is_saved(member):
    limit(member, budget=Decimal("0.01"), period=Period.MONTH)
    with time_machine.travel(datetime(2025, 6, 14, 12, tzinfo=UTC)):
        submit(member, num_outputs=2)  # 0.006 of 0.01
        with pytest.raises(billing.QuotaExceeded) as refused:
            submit(member, num_outputs=2)  # 0.012 > 0.01
    assert refused.value.limit == billing.Limit.BUDGET
    assert refused.value.remaining == Decimal("0.004")
    assert refused.value.resets_at == datetime(2025, 7, 1, tzinfo=UTC)
    assert refused.value.message == (
        "Over your budget: this prediction costs about $0.006, and $0.004 of your $0.01 monthly budget is "
        "left. It starts again on July 1, 2025, midnight UTC."
    )
    assert Prediction.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    assert net(member) == Decimal("0.006")


def test_a_budget_spent_exactly_to_the_cent_still_allows_the_last_prediction(member):
    limit(member, budget=Decimal("0.009"), period=Period.DAY)
    for _ in range(3):
        submit(member)
    with pytest.raises(billing.QuotaExceeded):
        submit(member)
    assert net(member) == Decimal("0.009")


@pytest.mark.parametrize(
    ("period", "spent_at", "still_refused_at", "allowed_at"),
    [
        (Period.DAY, datetime(2025, 6, 14, 23, 59), datetime(2025, 6, 14, 23, 59, 59), datetime(2025, 6, 15, 0, 0)),
        # 2025-06-16 is a Monday: weeks start on Mondays.
        (Period.WEEK, datetime(2025, 6, 16, 0, 0), datetime(2025, 6, 22, 23, 59), datetime(2025, 6, 23, 0, 0)),
        (Period.MONTH, datetime(2025, 1, 31, 20), datetime(2025, 1, 31, 23, 59), datetime(2025, 2, 1, 0, 0)),
    ],
)
def test_the_budget_starts_again_with_the_next_period(member, period, spent_at, still_refused_at, allowed_at):
    limit(member, budget=Decimal("0.04"), period=period)
    with time_machine.travel(spent_at.replace(tzinfo=UTC), tick=False):
        submit(member, model_id=PRO)
    with time_machine.travel(still_refused_at.replace(tzinfo=UTC), tick=False):
        with pytest.raises(billing.QuotaExceeded) as refused:
            submit(member, model_id=PRO)
        assert refused.value.resets_at == allowed_at.replace(tzinfo=UTC)
    with time_machine.travel(allowed_at.replace(tzinfo=UTC), tick=False):
        submit(member, model_id=PRO)
    assert Prediction.objects.count() == 2


def test_a_period_of_none_means_no_budget_at_all(member):
    limit(member, budget=Decimal("0"), period=Period.NONE)
    submit(member, model_id=PRO)
    assert billing.budget_status(member).unlimited


def test_a_model_not_allowed_is_refused_naming_the_models_the_member_may_use(member):
    limit(member, allowed_models=[SCHNELL])
    submit(member)
    with pytest.raises(billing.QuotaExceeded) as refused:
        submit(member, model_id=PRO)
    assert refused.value.limit == billing.Limit.MODEL
    assert refused.value.message == "Your account may not use FLUX1.1 [pro]. Models you may use: FLUX.1 [schnell]."
    assert Prediction.objects.count() == 1


def test_the_in_flight_limit_counts_running_predictions_but_not_finished_or_unknown_ones(member, other_member):
    limit(member, max_in_flight=2)
    first, second = submit(member), submit(member)
    with pytest.raises(billing.QuotaExceeded) as refused:
        submit(member)
    assert refused.value.limit == billing.Limit.IN_FLIGHT
    assert refused.value.remaining == 0
    assert "2 predictions in flight" in refused.value.message
    submit(other_member)  # the limit is per member

    finish(first, Status.SUCCEEDED, metrics={"image_count": 1})
    third = submit(member)
    finish(second, Status.UNKNOWN)
    finish(third, Status.FAILED, error="x")
    submit(member)
    submit(member)
    assert Prediction.objects.filter(owner=member, status=Status.QUEUED).count() == 2


def test_the_team_monthly_budget_is_checked_on_top_of_each_members(member, other_member):
    TeamSettings.objects.create(pk=1, team_monthly_budget=Decimal("0.08"))
    submit(member, model_id=PRO)
    submit(other_member, model_id=PRO)
    with pytest.raises(billing.QuotaExceeded) as refused:
        submit(member)
    assert refused.value.limit == billing.Limit.TEAM_BUDGET
    assert refused.value.remaining == Decimal("0")
    assert "Over the team's budget" in refused.value.message


# --- Settling ------------------------------------------------------------------------


def test_a_success_with_fewer_images_than_requested_gives_the_difference_back(member):
    prediction = finish(submit(member, num_outputs=4), Status.SUCCEEDED, metrics={"image_count": 3})
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.012")), (LedgerKind.SETTLE, Decimal("-0.003"))]
    assert (prediction.actual_cost, prediction.image_count) == (Decimal("0.009"), 3)
    assert net(member) == Decimal("0.009")


def test_a_success_as_estimated_writes_no_settle_entry(member):
    prediction = finish(submit(member, num_outputs=2), Status.SUCCEEDED, metrics={"image_count": 2})
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.006"))]
    assert prediction.actual_cost == Decimal("0.006")


def test_without_an_image_count_from_deerapi_the_stored_outputs_are_counted(member):
    prediction = submit(member, num_outputs=2)
    prediction.outputs.create(
        index=0, source_url="https://x/0.png", content_type="image/png", size=1, checksum="0" * 64
    )
    prediction = finish(prediction, Status.SUCCEEDED)
    assert prediction.image_count == 1
    assert ledger(prediction)[-1] == (LedgerKind.SETTLE, Decimal("-0.003"))


def test_a_failure_refunds_the_reservation(member):
    prediction = finish(submit(member, num_outputs=2), Status.FAILED, error="NSFW")
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.006")), (LedgerKind.REFUND, Decimal("-0.006"))]
    assert prediction.actual_cost == Decimal("0")
    assert net(member) == 0


def test_a_failure_after_deerapi_made_the_images_refunds_the_member_but_records_deerapis_charge(member):
    prediction = submit(member, num_outputs=2)
    services.prediction_transition(prediction.pk, Status.QUEUED, Status.SUBMITTING)
    services.prediction_transition(prediction.pk, Status.SUBMITTING, Status.STORING, metrics={"image_count": 2})
    services.prediction_fail(prediction.pk, Status.STORING, "DeerAPI's output files expired")
    prediction.refresh_from_db()
    assert net(member) == 0
    assert prediction.actual_cost == Decimal("0.006"), "DeerAPI billed the team for the images it made"


def test_a_cancel_before_sending_refunds_the_reservation(member):
    prediction = submit(member)
    assert services.prediction_cancel(prediction)
    assert ledger(prediction)[-1] == (LedgerKind.REFUND, Decimal("-0.003"))


def test_a_timeout_refunds_the_reservation(member, settings):
    prediction = submit(member, model_id=PRO)
    Prediction.objects.filter(pk=prediction.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.PREDICTION_TIMEOUT + 60)
    )
    assert pipeline.predictions_sweep()["timed_out"] == 1
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.04")), (LedgerKind.REFUND, Decimal("-0.04"))]


def test_settling_twice_changes_nothing(member):
    prediction = finish(submit(member, num_outputs=4), Status.SUCCEEDED, metrics={"image_count": 1})
    again = Prediction.objects.get(pk=prediction.pk)
    settlement.prediction_settle(again)
    again.actual_cost = None  # as read before its settlement: the ledger's entries still stop it
    settlement.prediction_settle(again)
    assert len(ledger(prediction)) == 2
    assert net(member) == Decimal("0.003")


def test_an_unknown_outcome_keeps_its_reservation(member):
    prediction = finish(submit(member, num_outputs=2), Status.UNKNOWN)
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.006"))]
    assert prediction.actual_cost is None


def test_an_unknown_outcome_resolved_as_charged_keeps_the_cost_and_is_audited(member, admin_user):
    prediction = finish(submit(member, num_outputs=2), Status.UNKNOWN)
    assert services.prediction_resolve_unknown(prediction, charge=True, by=admin_user)
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert "Resolved by dora: DeerAPI ran and charged for it" in prediction.error
    assert prediction.actual_cost == Decimal("0.006")
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.006"))]
    audit = AuditEntry.objects.get(action="prediction.resolve_unknown")
    assert (audit.actor, audit.target_id, audit.after["resolution"]) == (admin_user, str(prediction.pk), "charge")
    assert not services.prediction_resolve_unknown(prediction, charge=False, by=admin_user), "resolved once"
    assert net(member) == Decimal("0.006")


def test_an_unknown_outcome_resolved_as_refunded_gives_the_reservation_back(member, admin_user):
    prediction = finish(submit(member, num_outputs=2), Status.UNKNOWN)
    assert services.prediction_resolve_unknown(prediction, charge=False, by=admin_user)
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert prediction.actual_cost == Decimal("0")
    refund = prediction.ledger.get(kind=LedgerKind.REFUND)
    assert (refund.amount, refund.created_by) == (Decimal("-0.006"), admin_user)
    assert net(member) == 0


def test_only_admins_resolve_or_refund(member, reviewer):
    prediction = finish(submit(member), Status.UNKNOWN)
    with pytest.raises(PermissionDenied):
        services.prediction_resolve_unknown(prediction, charge=False, by=reviewer)
    with pytest.raises(PermissionDenied):
        billing.ledger_adjust(member, Decimal("1"), "gift", by=member)


def test_an_admin_refund_gives_back_what_a_finished_prediction_cost_once(member, admin_user):
    prediction = finish(submit(member, num_outputs=2), Status.SUCCEEDED, metrics={"image_count": 2})
    assert settlement.prediction_refund(prediction, by=admin_user)
    assert not settlement.prediction_refund(prediction, by=admin_user)
    assert net(member) == 0
    prediction.refresh_from_db()
    assert prediction.actual_cost == Decimal("0.006"), "what DeerAPI charged the team is unchanged"
    assert AuditEntry.objects.filter(action="prediction.refund", target_id=str(prediction.pk)).count() == 1
    running = submit(member)
    assert not settlement.prediction_refund(running, by=admin_user), "a running prediction is not refunded"


def test_an_admin_adjustment_counts_in_the_current_period(member, admin_user):
    limit(member, budget=Decimal("0.04"), period=Period.MONTH)
    submit(member, model_id=PRO)
    with pytest.raises(billing.QuotaExceeded):
        submit(member, model_id=PRO)
    entry = billing.ledger_adjust(member, Decimal("-0.04"), "a broken image last week", by=admin_user)
    assert (entry.kind, entry.created_by, entry.reason) == (
        LedgerKind.ADJUSTMENT,
        admin_user,
        "a broken image last week",
    )
    submit(member, model_id=PRO)
    assert AuditEntry.objects.filter(action="ledger.adjust").count() == 1
    with pytest.raises(ValueError, match="other than zero"):
        billing.ledger_adjust(member, Decimal("0"), "nothing", by=admin_user)
    with pytest.raises(ValueError, match="Say why"):
        billing.ledger_adjust(member, Decimal("1"), "  ", by=admin_user)


# --- Changing limits and reading them ---------------------------------------------------


def test_a_quota_change_is_audited_with_before_and_after_and_a_no_op_is_not(member, admin_user):
    billing.quota_update(
        member, {"budget": Decimal("5"), "period": Period.WEEK, "allowed_models": [PRO, SCHNELL]}, by=admin_user
    )
    quota = MemberQuota.objects.get(user=member)
    assert (quota.budget, quota.period, quota.allowed_models) == (Decimal("5"), Period.WEEK, sorted([PRO, SCHNELL]))
    audit = AuditEntry.objects.get(action="quota.change")
    assert audit.target_id == str(quota.pk)
    assert audit.before == {"budget": None, "period": "month", "allowed_models": []}
    assert audit.after == {"budget": "5", "period": "week", "allowed_models": sorted([PRO, SCHNELL])}
    billing.quota_update(member, {"budget": Decimal("5.0000"), "period": Period.WEEK}, by=admin_user)
    assert AuditEntry.objects.filter(action="quota.change").count() == 1


def test_team_settings_changes_are_audited(admin_user):
    billing.team_settings_update({"team_monthly_budget": Decimal("100"), "default_budget": Decimal("5")}, by=admin_user)
    team = TeamSettings.objects.get(pk=1)
    assert (team.team_monthly_budget, team.default_budget) == (Decimal("100"), Decimal("5"))
    audit = AuditEntry.objects.get(action="quota.change", target_type="billing.teamsettings")
    assert audit.after == {"team_monthly_budget": "100", "default_budget": "5"}


def test_the_budget_status_says_what_is_left_this_period_in_two_queries(member, django_assert_num_queries):
    limit(member, budget=Decimal("1"), period=Period.DAY)
    finish(submit(member, model_id=PRO), Status.SUCCEEDED, metrics={"image_count": 1})
    finish(submit(member, num_outputs=2), Status.FAILED)
    with django_assert_num_queries(2):
        status = billing.budget_status(member)
    assert (status.budget, status.spent, status.remaining) == (Decimal("1"), Decimal("0.04"), Decimal("0.96"))
    assert status.resets_at == billing.midnight(timezone.localdate() + timedelta(days=1))
    assert status.left_label == "Left today"


def test_money_is_shown_with_two_to_four_decimals():
    assert [billing.format_usd(Decimal(v)) for v in ("0.003", "1.5", "12", "-0.04", "1234.56789")] == [
        "$0.003",
        "$1.50",
        "$12.00",
        "-$0.04",
        "$1,234.5679",
    ]
