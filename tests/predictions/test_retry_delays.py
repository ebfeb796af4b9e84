"""How long the pipeline waits before trying again: at random within the backoff, so predictions
refused together do not retry together, and never sooner than DeerAPI's Retry-After."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from django.utils import timezone

from deerapi.client import AuthError, TransientError
from predictions import pipeline, services, storing
from predictions.models import Prediction, Status
from tests.world import finished_prediction

pytestmark = pytest.mark.django_db
TOGETHER = 8  # predictions refused at the same moment, each at its first attempt


@pytest.fixture
def countdowns(monkeypatch) -> Iterator[list[float]]:
    """The countdown of every task the pipeline would send, recorded instead; random seeded."""
    sent: list[float] = []
    monkeypatch.setattr(services, "enqueue", lambda task, prediction_id, countdown=0.0, **kw: sent.append(countdown))
    state = random.getstate()
    random.seed(7)
    yield sent
    random.setstate(state)


class Refusing:
    """A DeerAPI client whose every call raises `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def create_prediction(self, *args, **kwargs):
        raise self.error

    def get_prediction(self, *args, **kwargs):
        raise self.error


def spread_within(countdowns: list[float], low: float, high: float) -> bool:
    """One countdown per prediction, each between `low` and `high`, no two alike."""
    in_bounds = all(low <= countdown <= high for countdown in countdowns)
    return len(countdowns) == TOGETHER and in_bounds and len(set(countdowns)) == TOGETHER


@pytest.mark.parametrize(("retry_after", "low", "high"), [(None, 1.0, 2.0), (30.0, 30.0, 31.0)])
def test_creates_refused_together_are_due_again_at_different_times_never_before_retry_after(
    member, countdowns, frozen_clock, retry_after, low, high
):
    client = Refusing(TransientError("busy", status_code=503, retry_after=retry_after))
    now = timezone.now()
    for _ in range(TOGETHER):
        queued = finished_prediction(member, outputs=0, status=Status.QUEUED, next_poll_at=now)
        pipeline.prediction_submit(queued.pk, client=client)
    due = Prediction.objects.filter(owner=member, status=Status.QUEUED).values_list("next_poll_at", flat=True)
    assert spread_within([(at - now).total_seconds() for at in due], low, high)
    assert countdowns == [], "the pollers claim them when due: no message"


def test_without_pollers_a_refused_create_is_sent_again_by_a_message_after_its_delay(
    member, countdowns, frozen_clock, settings
):
    settings.POLL_THREADS = 0
    client = Refusing(TransientError("busy", status_code=503, retry_after=5.0))
    queued = finished_prediction(member, outputs=0, status=Status.QUEUED, next_poll_at=timezone.now())
    pipeline.prediction_submit(queued.pk, client=client)
    queued.refresh_from_db()
    assert countdowns == [pytest.approx((queued.next_poll_at - timezone.now()).total_seconds())]


@pytest.mark.parametrize(
    ("error", "low", "high"),
    [(TransientError("busy", status_code=503), 1.0, 2.0), (AuthError("Invalid key", status_code=401), 30.0, 60.0)],
)
def test_polls_that_fail_together_are_retried_at_different_times(member, countdowns, error, low, high):
    for _ in range(TOGETHER):
        running = finished_prediction(
            member,
            outputs=0,
            status=Status.PROCESSING,
            deerapi_id="r-1",
            submitted_at=timezone.now(),
            next_poll_at=timezone.now(),
        )
        pipeline.prediction_refresh(running.pk, client=Refusing(error))
    assert spread_within(countdowns, low, high), countdowns


def test_downloads_that_fail_together_are_retried_at_different_times(member, countdowns, monkeypatch):
    def unreachable(url):
        raise storing.DownloadError("download failed: ConnectionError", permanent=False)

    monkeypatch.setattr(storing, "_download", unreachable)
    for _ in range(TOGETHER):
        waiting = finished_prediction(
            member,
            outputs=0,
            status=Status.STORING,
            remote_output=["https://files.example/a.png"],
            next_poll_at=timezone.now(),
        )
        storing.prediction_store_outputs(waiting.pk)
    assert spread_within(countdowns, 1.0, 2.0), countdowns
