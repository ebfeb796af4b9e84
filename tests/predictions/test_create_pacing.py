"""predictions/pacing.py: a worker sends creates no faster than it stores their results."""

import pytest

from predictions import pacing
from predictions.pacing import CreatePace


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def predictions_ended(pace: CreatePace, count: int, *, end: float, create: float = 0.002) -> None:
    """`count` predictions measured: a create each, then the poll that ended it (CPU seconds)."""
    for _ in range(count):
        pace.create_done(create)
        pace.poll_done(end, ended=True)


def test_before_any_create_is_measured_creates_are_not_held(clock):
    pace = CreatePace(clock=clock)
    assert pace.rate() is None
    assert pace.take(500) == 500


def test_before_any_prediction_has_ended_an_end_is_taken_as_costing_several_creates(clock):
    pace = CreatePace(clock=clock)
    pace.create_done(0.004)
    pace.create_done(0.004)
    pace.poll_done(0.010, ended=True)  # one end is not yet trusted
    assert pace.cost() == pytest.approx(0.004 * (1 + pacing.COLD_RATIO))

    pace.poll_done(0.006, ended=False)  # a long run's probe: shared by the two creates
    assert pace.cost() == pytest.approx(0.004 * (1 + pacing.COLD_RATIO) + 0.003)


def test_once_predictions_have_ended_a_prediction_costs_its_create_its_polls_and_its_end(clock):
    pace = CreatePace(clock=clock)
    for _ in range(10):
        pace.create_done(0.004)
        pace.poll_done(0.002, ended=False)
        pace.poll_done(0.014, ended=True)

    assert pace.cost() == pytest.approx(0.004 + 0.002 + 0.014)
    assert pace.rate() == pytest.approx(pacing.SHARE / 0.020)


def test_creates_go_in_a_burst_then_at_the_measured_rate(clock):
    pace = CreatePace(clock=clock)
    predictions_ended(pace, 10, end=0.018)
    rate = pace.rate()
    assert rate == pytest.approx(pacing.SHARE / 0.020)

    burst = pace.take(500)
    assert burst == pacing.BURST_MIN, "the bucket starts with BURST_MIN"
    assert pace.take(500) == 0
    clock.now += 0.2
    assert pace.take(500) == int(0.2 * rate)
    clock.now += 60
    assert pace.take(500) == int(rate * pacing.BURST_SECONDS), "an idle minute fills the bucket to half a second"


def test_creates_not_sent_are_given_back(clock):
    pace = CreatePace(clock=clock)
    predictions_ended(pace, 10, end=0.018)
    granted = pace.take(5)
    pace.give_back(granted - 2)  # only two were queued

    assert pace.take(500) == pacing.BURST_MIN - 2


def test_older_measurements_fade_so_the_pace_follows_heavier_images(clock):
    pace = CreatePace(clock=clock)
    predictions_ended(pace, 20, end=0.018)
    clock.now += 10 * pacing.HALF_LIFE
    predictions_ended(pace, 20, end=0.078)  # 4 MP outputs now

    assert pace.cost() == pytest.approx(0.080, rel=0.01)


def test_a_pace_turned_off_measures_but_never_holds_a_create(clock):
    pace = CreatePace(enabled=False, clock=clock)
    predictions_ended(pace, 10, end=0.018)

    assert pace.rate() == pytest.approx(pacing.SHARE / 0.020)
    assert not pace.paced()
    assert pace.take(500) == 500
