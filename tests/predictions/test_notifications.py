"""A change to a prediction notifies the requests waiting on it (ops.notifier), once, after it commits:
each status change, the submit claim, new logs; a refused change notifies nobody. A waiter in another
process follows a real worker's prediction to its end without polling."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.db import transaction

from deerapi.client import RemotePrediction
from ops import notifier
from predictions import pipeline, services
from predictions.models import TERMINAL, Prediction, Status
from tests.world import finished_prediction, submit, submitted


@pytest.fixture
def notified(monkeypatch) -> list[int]:
    """The ids passed to ops.notifier.notify, in order."""
    calls: list[int] = []
    monkeypatch.setattr(notifier, "notify", calls.append)
    return calls


def test_a_status_change_notifies_once(member, notified):
    prediction = submit(member)
    notified.clear()

    assert services.prediction_transition(prediction.pk, Status.QUEUED, Status.CANCELED)

    assert notified == [prediction.pk]


def test_a_status_change_another_actor_made_first_notifies_nobody(member, notified):
    prediction = submit(member)
    services.prediction_transition(prediction.pk, Status.QUEUED, Status.CANCELED)
    notified.clear()

    assert not services.prediction_transition(prediction.pk, Status.QUEUED, Status.CANCELED)

    assert notified == []


def test_sending_a_prediction_notifies_the_claim_and_the_answer(member, simulator, notified):
    prediction = submitted(member)

    assert prediction.status == Status.STARTING
    assert notified == [prediction.pk, prediction.pk]  # queued -> submitting, submitting -> starting


def test_a_poll_that_finds_nothing_new_writes_its_next_poll_only_and_notifies_nobody(member, notified):
    prediction = submitted(member)
    Prediction.objects.filter(pk=prediction.pk).update(status=Status.PROCESSING, logs="step 1", started_at=None)
    prediction.refresh_from_db()
    running = RemotePrediction(id=prediction.deerapi_id, status="processing", logs="step 1")
    notified.clear()

    assert pipeline._apply_remote(prediction, Status.PROCESSING, running) == Status.PROCESSING
    first = Prediction.objects.get(pk=prediction.pk)
    assert first.started_at is not None, "DeerAPI gave no start time: when DeerWeb first saw it run"
    assert notified == [prediction.pk]
    notified.clear()

    assert pipeline._apply_remote(first, Status.PROCESSING, running) == Status.PROCESSING
    assert notified == [], "nothing a live page shows changed"
    assert Prediction.objects.get(pk=prediction.pk).next_poll_at > first.next_poll_at
    assert Prediction.objects.get(pk=prediction.pk).started_at == first.started_at, "not moved on each poll"

    again = Prediction.objects.get(pk=prediction.pk)
    assert (
        pipeline._apply_remote(again, Status.PROCESSING, replace(running, logs="step 1\nstep 2")) == Status.PROCESSING
    )
    assert notified == [prediction.pk]
    assert Prediction.objects.get(pk=prediction.pk).logs == "step 1\nstep 2"


def test_a_notification_waits_for_the_commit_of_the_change(member, transactional_db, settings, web_loop):
    settings.NOTIFIER = "local"
    # Queued with no message on its way: no worker of the session moves it first.
    prediction = finished_prediction(member, status=Status.QUEUED, completed_at=None)
    assert web_loop.run(notifier.subscription_ready(10))
    waiting = web_loop.start(notifier.wait_for_change(prediction.pk, 10))

    with transaction.atomic():
        services.prediction_transition(prediction.pk, Status.QUEUED, Status.CANCELED)
        assert not waiting.done()

    assert waiting.result(10) is True


@pytest.mark.services
def test_a_waiter_follows_a_prediction_the_worker_runs_to_its_end_reading_only_when_notified(worker, member, web_loop):
    reads = []

    def ended() -> bool:
        reads.append(Prediction.objects.values_list("status", flat=True).get(pk=prediction.pk))
        return reads[-1] in TERMINAL

    prediction = submit(member)

    assert web_loop.run(notifier.wait_until(notifier.released(ended), prediction.pk, 30)) is True
    assert reads[-1] == Status.SUCCEEDED
    # One read first, then one per change: queued/submitting, starting, processing (and its logs), storing, succeeded.
    assert len(reads) <= 12, reads
