"""predictions.poller: a worker's threads claim the creates and polls that are due, a batch at a
time, and send them to DeerAPI, instead of a Celery message each."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from predictions import pacing, pipeline
from predictions import poller as poller_module
from predictions.models import Prediction, Status
from predictions.poller import Poller
from tests.world import rows_due, submit, submitted, wait_for


@pytest.mark.django_db
def test_due_polls_are_claimed_with_their_lease_moved_and_the_poll_counted(member):
    later, oldest, late = rows_due(member, 30, -20, -5)
    lease, claimed = pipeline.due_polls_claim(10)
    assert {p.pk for p in claimed} == {oldest, late}
    assert all(p.poll_count == 1 and p.next_poll_at == lease for p in claimed)
    assert lease > timezone.now() + pipeline.POLL_LEASE - timedelta(seconds=5)
    assert Prediction.objects.get(pk=later).poll_count == 0


@pytest.mark.django_db
def test_a_claimed_poll_is_not_claimed_again_until_its_lease_runs_out(member):
    rows_due(member, -1, -1)
    assert len(pipeline.due_polls_claim(10)[1]) == 2
    assert pipeline.due_polls_claim(10)[1] == []


@pytest.mark.django_db
def test_no_more_polls_are_claimed_than_asked_for_the_longest_due_first(member):
    oldest, older, newest = rows_due(member, -3, -2, -1)
    assert {p.pk for p in pipeline.due_polls_claim(2)[1]} == {oldest, older}
    assert [p.pk for p in pipeline.due_polls_claim(2)[1]] == [newest]


@pytest.mark.django_db
def test_only_predictions_running_at_deerapi_are_claimed(member):
    rows_due(member, -1, status=Status.QUEUED)
    rows_due(member, -1, status=Status.STORING)
    starting = rows_due(member, -1, status=Status.STARTING)
    assert [p.pk for p in pipeline.due_polls_claim(10)[1]] == starting


@pytest.mark.django_db
def test_claims_given_back_are_due_at_once_unless_someone_else_took_them_since(member):
    kept, taken = rows_due(member, -1, -1)
    lease, _claimed = pipeline.due_polls_claim(10)
    Prediction.objects.filter(pk=taken).update(next_poll_at=lease + timedelta(seconds=1))
    assert pipeline.poll_claims_release([(kept, lease), (taken, lease)]) == 1
    assert Prediction.objects.get(pk=kept).next_poll_at <= timezone.now()
    assert [p.pk for p in pipeline.due_polls_claim(10)[1]] == [kept]


@pytest.mark.django_db
def test_due_creates_are_claimed_in_submitting_with_the_attempt_counted(member):
    due, later = rows_due(member, -1, 30, status=Status.QUEUED)
    claimed = pipeline.due_creates_claim(10)
    assert [(p.pk, p.status, p.attempts) for p in claimed] == [(due, Status.SUBMITTING, 1)]
    assert claimed[0].next_poll_at > timezone.now() + pipeline.SUBMIT_LEASE - timedelta(seconds=5)
    assert pipeline.due_creates_claim(10) == []


@pytest.mark.django_db
def test_due_polls_are_claimed_before_due_creates_and_creates_only_fill_the_threads_left(member):
    (queued_first,) = rows_due(member, -60, status=Status.QUEUED)
    (due_poll,) = rows_due(member, -1)
    poller = Poller(1)
    assert poller._claim(1) == 1
    assert poller._jobs.get_nowait().prediction.pk == due_poll
    assert poller._claim(2) == 1
    assert poller._jobs.get_nowait().prediction.pk == queued_first


@pytest.mark.django_db
def test_creates_are_claimed_no_faster_than_the_pace_the_worker_stores_at(member, monkeypatch):
    rows_due(member, *range(-12, 0), status=Status.QUEUED)
    poller = Poller(8)
    monkeypatch.setattr(poller.pace, "take", lambda wanted: min(wanted, 3))
    given_back = []
    monkeypatch.setattr(poller.pace, "give_back", given_back.append)

    assert poller._claim(8) == 3
    assert Prediction.objects.filter(status=Status.SUBMITTING).count() == 3
    assert given_back == [0]


@pytest.mark.django_db
def test_paced_creates_the_pace_allows_go_before_due_polls_unless_a_due_poll_waits_too_long(member, monkeypatch):
    queued = rows_due(member, -3, -2, status=Status.QUEUED)
    (due_poll,) = rows_due(member, -0.2)
    poller = Poller(2)
    monkeypatch.setattr(poller.pace, "paced", lambda: True)
    monkeypatch.setattr(poller.pace, "take", lambda wanted: min(wanted, 1))

    assert poller._claim(2) == 2
    jobs = [poller._jobs.get_nowait() for _ in range(2)]
    assert [(job.prediction.pk, job.lease is None) for job in jobs] == [(due_poll, False), (queued[0], True)]

    rows_due(member, -(poller_module.PACE_BACKLOG + 1))  # the worker is behind
    assert poller._claim(1) == 1
    assert poller._jobs.get_nowait().lease is not None, "the late poll, not the create the pace allows"
    assert Prediction.objects.filter(pk=queued[1], status=Status.QUEUED).exists()


@pytest.mark.django_db
def test_creates_given_back_are_queued_again_and_due_at_once(member):
    (pk,) = rows_due(member, -1, status=Status.QUEUED)
    pipeline.due_creates_claim(10)
    assert pipeline.create_claims_release([pk]) == 1
    assert [p.pk for p in pipeline.due_creates_claim(10)] == [pk]


@pytest.mark.django_db
def test_work_is_due_while_a_create_or_poll_is(member):
    assert not pipeline.work_due()
    rows_due(member, 30, status=Status.QUEUED)
    rows_due(member, -1, status=Status.STORING)
    assert not pipeline.work_due()
    rows_due(member, -1, status=Status.STARTING)
    assert pipeline.work_due()


@pytest.mark.django_db(transaction=True)
def test_with_pollers_a_new_prediction_is_sent_to_no_worker_and_a_poller_takes_it_to_its_stored_images(
    simulator, member, broker
):
    poller = Poller(2, tick=0.05)
    poller.start()
    try:
        prediction = wait_for(submit(member), Status.SUCCEEDED)
    finally:
        poller.stop()
    assert broker.messages == [], "neither the create nor the polls needed a message"
    assert prediction.outputs.count() == 1
    assert simulator.stats.creates == 1


@pytest.mark.django_db(transaction=True)
def test_with_paced_creates_a_burst_is_held_to_the_pace_and_every_prediction_is_stored_once(
    settings, simulator, member, broker, monkeypatch, worker_session
):
    worker_session.stop()  # an earlier test's worker would claim these rows too: only this poller works
    settings.PACE_CREATES = True
    poller = Poller(8, tick=0.05)
    held = []
    take = poller.pace.take

    def counted_take(wanted: int) -> int:
        granted = take(wanted)
        held.append(wanted - granted)
        return granted

    monkeypatch.setattr(poller.pace, "take", counted_take)
    poller.start()
    try:
        first = wait_for(submit(member), Status.SUCCEEDED)  # measured: the pace is known
        monkeypatch.setattr(pacing, "SHARE", 20 * poller.pace.cost())  # 20 a second, whatever this machine
        with transaction.atomic():  # the poller sees the burst at once
            burst = [submit(member, prompt=f"lantern {n}") for n in range(3 * pacing.BURST_MIN)]
        done = [wait_for(prediction, Status.SUCCEEDED) for prediction in burst]
    finally:
        poller.stop()
    assert first.outputs.count() == 1 and all(prediction.outputs.count() == 1 for prediction in done)
    assert simulator.stats.creates == 1 + len(burst), "one create each"
    assert any(held), "more than a burst's worth at once was held to the pace"


@pytest.mark.django_db(transaction=True)
def test_without_pollers_a_new_prediction_is_sent_to_the_workers(settings, member, broker):
    settings.POLL_THREADS = 0
    prediction = submit(member)
    assert broker.sent("submit") == [[prediction.pk]]


@pytest.mark.django_db(transaction=True)
def test_a_running_poller_follows_a_prediction_to_its_stored_images_without_a_poll_message(simulator, member, broker):
    poller = Poller(2, tick=0.05)
    poller.start()
    try:
        prediction = wait_for(submitted(member), Status.SUCCEEDED)
        assert not broker.sent("poll"), "the poller needs no message per poll"
    finally:
        poller.stop()
    assert prediction.outputs.count() == 1
    assert prediction.poll_count >= 1
    assert simulator.stats.creates == 1


@pytest.mark.django_db(transaction=True)
def test_a_stopped_poller_hands_polls_back_to_messages(simulator, member, broker):
    poller = Poller(1, tick=0.05)
    poller.start()
    poller.stop()
    prediction = submitted(member)
    assert broker.sent("poll") == [[prediction.pk]]
