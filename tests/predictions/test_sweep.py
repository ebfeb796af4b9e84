"""The sweep re-sends work whose message was lost, at most once per lease, however large the backlog."""

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from predictions import pipeline, tasks
from predictions.models import Prediction, Status
from tests.world import rows_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def without_pollers(settings) -> None:
    """Workers without pollers (DEERWEB_POLL_THREADS=0): every create and poll is a message."""
    settings.POLL_THREADS = 0


def late_rows(owner, status: str, count: int, *, late_by: float = 60.0) -> list[int]:
    return rows_due(owner, *[-late_by] * count, status=status)


def sweep(django_capture_on_commit_callbacks) -> dict[str, int]:
    with django_capture_on_commit_callbacks(execute=True):
        return pipeline.predictions_sweep()


def test_a_thousand_late_rows_get_one_message_each_however_often_the_sweep_runs_within_a_lease(
    member, broker, without_pollers, django_capture_on_commit_callbacks
):
    ids = late_rows(member, Status.PROCESSING, 1000)

    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(6):  # a pass every 5 s, with the worker stopped
            sweep(django_capture_on_commit_callbacks)
            clock.shift(5)

    assert len(broker.messages) == 1000
    assert sorted(args[0] for _name, args, _kw in broker.messages) == sorted(ids)
    assert {name for name, _args, _kw in broker.messages} == {"predictions.tasks.poll"}


def test_a_row_still_not_done_when_its_lease_ends_is_sent_again_once(
    member, broker, without_pollers, django_capture_on_commit_callbacks
):
    late_rows(member, Status.QUEUED, 3)

    with time_machine.travel(timezone.now(), tick=False) as clock:
        sweep(django_capture_on_commit_callbacks)
        clock.shift(pipeline.SUBMIT_LEASE.total_seconds() + settings.SWEEP_GRACE + 1)
        sweep(django_capture_on_commit_callbacks)
        sweep(django_capture_on_commit_callbacks)

    assert [name for name, _args, _kw in broker.messages] == ["predictions.tasks.submit"] * 6


def test_the_message_the_sweep_sends_claims_the_row_it_leased(member, broker, django_capture_on_commit_callbacks):
    (pk,) = late_rows(member, Status.STORING, 1)  # nothing to download: storing it finishes it
    sweep(django_capture_on_commit_callbacks)
    ((name, args, kwargs),) = broker.messages

    with django_capture_on_commit_callbacks(execute=True):
        tasks.store.apply(args=args, kwargs=kwargs)

    assert Prediction.objects.get(pk=pk).status == Status.SUCCEEDED


def test_a_plain_message_for_a_row_the_sweep_leased_does_nothing_until_the_lease_ends(
    member, broker, django_capture_on_commit_callbacks
):
    (pk,) = late_rows(member, Status.STORING, 1)
    sweep(django_capture_on_commit_callbacks)

    tasks.store.apply(args=[pk])  # the original, slow message arriving after the sweep's

    assert Prediction.objects.get(pk=pk).status == Status.STORING


def test_rows_that_are_due_but_not_yet_late_are_left_to_their_own_message(
    member, broker, without_pollers, django_capture_on_commit_callbacks
):
    late_rows(member, Status.PROCESSING, 5, late_by=1.0)

    sweep(django_capture_on_commit_callbacks)

    assert broker.messages == []


def test_with_pollers_late_queued_and_running_rows_are_left_to_them_and_a_late_store_still_gets_its_message(
    member, broker, django_capture_on_commit_callbacks
):
    for status in (Status.QUEUED, Status.STARTING, Status.PROCESSING, Status.STORING):
        late_rows(member, status, 2)
    counts = sweep(django_capture_on_commit_callbacks)
    assert (counts["submit"], counts["poll"], counts["store"]) == (0, 0, 2)
    assert [name for name, _args, _kw in broker.messages] == ["predictions.tasks.store"] * 2
