"""Canceling a prediction at each stage: queued (at once), at DeerAPI (by a worker), and while
its create is on its way to DeerAPI (once DeerAPI answers, and never sent again)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import LedgerKind
from deerapi.client import get_client
from predictions import pipeline, services
from predictions.models import Prediction, Status
from tests.world import ledger, make_prediction, submit, updated

pytestmark = pytest.mark.django_db


def test_a_prediction_whose_create_is_on_its_way_is_marked_to_be_canceled(member):
    prediction = make_prediction(member, status=Status.SUBMITTING)
    assert services.prediction_cancel(prediction)
    prediction.refresh_from_db()
    assert prediction.status == Status.SUBMITTING and prediction.cancel_requested_at is not None


@pytest.mark.parametrize("status", [Status.STORING, Status.SUCCEEDED, Status.FAILED, Status.UNKNOWN])
def test_a_prediction_past_canceling_is_left_as_it_is(member, status):
    prediction = make_prediction(member, status=status)
    assert not services.prediction_cancel(prediction)
    prediction.refresh_from_db()
    assert prediction.status == status and prediction.cancel_requested_at is None


def _cancel_during_create(prediction: Prediction, monkeypatch):
    """DeerWeb's client (this thread's, kept between tests: patched for this test only), with
    the member asking to cancel while the create is on its way."""
    client = get_client()
    create = client.create_prediction

    def create_while_canceled(*args, **kwargs):
        assert services.prediction_cancel(Prediction.objects.get(pk=prediction.pk))
        return create(*args, **kwargs)

    monkeypatch.setattr(client, "create_prediction", create_while_canceled)
    return client


def test_a_cancel_asked_for_during_the_create_is_sent_to_deerapi_once_it_answers(simulator, member, monkeypatch):
    prediction = submit(member, prompt="[[slow]] a doe")
    pipeline.prediction_submit(prediction.pk, client=_cancel_during_create(prediction, monkeypatch))
    prediction.refresh_from_db()
    assert prediction.status == Status.CANCELED
    assert (simulator.stats.creates, simulator.stats.cancels) == (1, 1)
    assert ledger(prediction) == [(LedgerKind.RESERVE, Decimal("0.003")), (LedgerKind.REFUND, Decimal("-0.003"))]


def test_a_cancel_asked_for_while_deerapi_refuses_the_create_for_now_is_not_sent_again(simulator, member, monkeypatch):
    simulator.inject("create", status=503)
    prediction = submit(member)
    pipeline.prediction_submit(prediction.pk, client=_cancel_during_create(prediction, monkeypatch))
    prediction.refresh_from_db()
    assert prediction.status == Status.CANCELED
    assert simulator.stats.create_requests == 1


def test_a_requeued_prediction_marked_to_be_canceled_is_canceled_instead_of_sent(simulator, member):
    prediction = updated(submit(member), cancel_requested_at=timezone.now())
    pipeline.prediction_submit(prediction.pk)
    prediction.refresh_from_db()
    assert prediction.status == Status.CANCELED
    assert simulator.stats.create_requests == 0
