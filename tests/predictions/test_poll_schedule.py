"""pipeline.poll_delay: when a running prediction is polled next."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deerapi.client import RemotePrediction
from predictions import pipeline
from predictions.models import Prediction, Prompt, Status
from tests.world import IDEOGRAM, SCHNELL


def running(logs: str = "", started_seconds_ago: float | None = None) -> tuple[Prediction, RemotePrediction]:
    now = timezone.now()
    prediction = Prediction(created_at=now - timedelta(seconds=3), submitted_at=now - timedelta(seconds=3))
    started = now - timedelta(seconds=started_seconds_ago) if started_seconds_ago is not None else None
    return prediction, RemotePrediction(id="abc", status="processing", logs=logs, started_at=started)


def test_without_a_progress_bar_the_fixed_schedule_is_kept():
    prediction, remote = running("Using seed: 5\n")
    now = timezone.now()
    assert pipeline.poll_delay(prediction, remote, now) == pipeline.poll_interval(prediction, now)


def test_with_a_progress_bar_the_next_poll_is_just_after_the_predicted_end():
    # 1 of 28 steps done at 2 steps a second, printed just now: 13.5 s to go.
    prediction, remote = running(" 3%|▎         | 1/28 [00:00<00:13,  2.00it/s]\n", started_seconds_ago=0.0)
    delay = pipeline.poll_delay(prediction, remote, timezone.now())
    assert delay == pytest.approx(13.5 + pipeline.PROGRESS_MARGIN, abs=0.05)


def test_a_very_long_run_is_still_polled_now_and_then():
    prediction, remote = running("  1%|          | 1/100 [00:30<49:30,  30.00s/it]\n", started_seconds_ago=30)
    assert pipeline.poll_delay(prediction, remote, timezone.now()) == pipeline.PROGRESS_MAX_WAIT


def test_once_every_step_is_done_it_is_polled_again_soon():
    prediction, remote = running("100%|██████████| 4/4 [00:02<00:00,  2.00it/s]\n", started_seconds_ago=2)
    assert pipeline.poll_delay(prediction, remote, timezone.now()) == pipeline.FINISHING_POLL


@pytest.fixture
def run_times(member):
    """Succeeded flux-schnell predictions of `member` that took these seconds at DeerAPI."""
    pipeline._fastest_runs.clear()

    def make(*seconds: float) -> None:
        prompt = Prompt.objects.create(owner=member, text="a deer")
        for value in seconds:
            Prediction.objects.create(
                owner=member,
                prompt=prompt,
                model_id=SCHNELL,
                status=Status.SUCCEEDED,
                metrics={"predict_time": value / 2, "total_time": value},
            )

    yield make
    pipeline._fastest_runs.clear()


@pytest.mark.django_db
def test_the_fastest_recent_run_of_the_model_is_known(run_times):
    run_times(9.5, 6.2, 7.0)
    assert pipeline.fastest_recent_run(SCHNELL) == 6.2
    assert pipeline.fastest_recent_run(IDEOGRAM) is None


@pytest.mark.django_db
def test_the_first_poll_after_the_create_keeps_the_fixed_schedule(run_times):
    # It is the one that shows whether the model prints a progress bar.
    run_times(6.0, 8.0)
    prediction, _remote = running()
    prediction.model_id = SCHNELL
    remote = RemotePrediction(id="abc", status="starting")
    now = prediction.submitted_at
    assert pipeline.poll_delay(prediction, remote, now) == pipeline.poll_interval(prediction, now)


@pytest.mark.django_db
def test_without_a_progress_bar_the_next_poll_waits_for_the_fastest_recent_run(run_times):
    run_times(6.0, 8.0)
    prediction, remote = running("Using seed: 5\n")
    prediction.model_id, prediction.poll_count = SCHNELL, 1
    now = prediction.submitted_at + timedelta(seconds=1.5)
    assert pipeline.poll_delay(prediction, remote, now) == pytest.approx(4.5 + pipeline.PROGRESS_MARGIN)


@pytest.mark.django_db
def test_a_prediction_already_slower_than_the_fastest_run_keeps_the_fixed_schedule(run_times):
    run_times(2.0)
    prediction, remote = running("Using seed: 5\n")
    prediction.model_id, prediction.poll_count = SCHNELL, 1
    now = prediction.submitted_at + timedelta(seconds=3)
    assert pipeline.poll_delay(prediction, remote, now) == pipeline.poll_interval(prediction, now)
