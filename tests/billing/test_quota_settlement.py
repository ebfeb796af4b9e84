"""The ledger for each way a prediction can end, with the outcome coming from DeerAPI: a real
worker process on PostgreSQL and Redis, talking to the simulator over HTTP."""

from decimal import Decimal

import pytest

from billing import services as billing
from billing.models import LedgerKind
from predictions import services
from predictions.models import Status
from tests.world import ledger, submit, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_success_with_fewer_images_than_requested_is_charged_for_the_images_made(worker, simulator, member):
    prediction = wait_for(submit(member, prompt="[[unsafe]] a stag", num_outputs=3), Status.SUCCEEDED)
    assert prediction.metrics["image_count"] == 2
    assert prediction.outputs.count() == 2
    assert (prediction.image_count, prediction.actual_cost) == (2, Decimal("0.006"))
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.009")), (LedgerKind.SETTLE, Decimal("-0.003"))]


def test_a_success_as_requested_costs_the_estimate(worker, simulator, member):
    prediction = wait_for(submit(member, num_outputs=2), Status.SUCCEEDED)
    assert prediction.actual_cost == Decimal("0.006")
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.006"))]


def test_a_failure_reported_by_deerapi_is_refunded(worker, simulator, member):
    simulator.fail_next(error="NSFW content detected.")
    prediction = wait_for(submit(member, num_outputs=4), Status.FAILED)
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.012")), (LedgerKind.REFUND, Decimal("-0.012"))]
    assert prediction.actual_cost == Decimal("0")


def test_a_cancel_while_deerapi_is_processing_is_refunded(worker, simulator, member):
    prediction = wait_for(submit(member, prompt="[[slow]] a doe"), Status.PROCESSING)
    assert services.prediction_cancel(prediction)
    prediction = wait_for(prediction, Status.CANCELED)
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.003")), (LedgerKind.REFUND, Decimal("-0.003"))]


def test_an_unknown_outcome_holds_its_reservation_until_an_admin_charges_it(worker, simulator, member, admin_user):
    simulator.inject("create", drop=True)
    prediction = wait_for(submit(member, num_outputs=2), Status.UNKNOWN)
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.006"))]
    assert billing.budget_status(member).spent == Decimal("0"), "no budget set: nothing counted"

    assert services.prediction_resolve_unknown(prediction, charge=True, by=admin_user)
    prediction.refresh_from_db()
    assert (prediction.status, prediction.actual_cost) == (Status.FAILED, Decimal("0.006"))
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.006"))]


def test_an_unknown_outcome_resolved_as_never_run_is_refunded(worker, simulator, member, admin_user):
    simulator.inject("create", drop=True)
    prediction = wait_for(submit(member), Status.UNKNOWN)
    assert services.prediction_resolve_unknown(prediction, charge=False, by=admin_user)
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.003")), (LedgerKind.REFUND, Decimal("-0.003"))]
