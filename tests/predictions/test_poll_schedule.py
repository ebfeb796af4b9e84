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
    pipeline._recent_runs.clear()

    def make(*seconds: float, num_outputs: int = 1) -> None:
        prompt = Prompt.objects.create(owner=member, text="a deer")
        for value in seconds:
            Prediction.objects.create(
                owner=member,
                prompt=prompt,
                model_id=SCHNELL,
                input={"prompt": "a deer", "num_outputs": num_outputs},
                status=Status.SUCCEEDED,
                metrics={"predict_time": value / 2, "total_time": value},
            )

    yield make
    pipeline._recent_runs.clear()


def schnell(seconds_since_submit: float, *, num_outputs: int = 1) -> tuple[Prediction, RemotePrediction, object]:
    """A running flux-schnell prediction without a progress bar, and the time it is looked at."""
    prediction, remote = running("Using seed: 5\n")
    prediction.model_id, prediction.input = SCHNELL, {"prompt": "a deer", "num_outputs": num_outputs}
    return prediction, remote, prediction.submitted_at + timedelta(seconds=seconds_since_submit)


@pytest.mark.django_db
def test_the_fastest_and_slowest_recent_runs_of_the_model_are_known(run_times):
    run_times(9.5, 6.2, 7.0)
    assert pipeline.recent_run_times(SCHNELL) == pipeline.RunTimes(fastest=6.2, slowest=9.5)
    assert pipeline.recent_run_times(IDEOGRAM) is None


@pytest.mark.django_db
def test_run_times_are_learned_apart_for_each_number_of_outputs(run_times):
    run_times(2.0, num_outputs=1)
    run_times(7.0, 8.0, num_outputs=4)
    assert pipeline.recent_run_times(SCHNELL, 4) == pipeline.RunTimes(fastest=7.0, slowest=8.0)
    assert pipeline.recent_run_times(SCHNELL, 1) == pipeline.RunTimes(fastest=2.0, slowest=2.0)


@pytest.mark.django_db
def test_the_first_poll_after_the_create_waits_for_the_fastest_recent_run(run_times):
    run_times(6.0, 8.0)
    prediction, _remote, now = schnell(0)
    remote = RemotePrediction(id="abc", status="starting")
    assert pipeline.poll_delay(prediction, remote, now) == pytest.approx(6.0 + pipeline.PROGRESS_MARGIN)


@pytest.mark.django_db
def test_a_model_without_a_run_of_that_size_keeps_the_fixed_schedule(run_times):
    run_times(6.0, 8.0, num_outputs=1)
    prediction, remote, now = schnell(0, num_outputs=4)
    assert pipeline.poll_delay(prediction, remote, now) == pipeline.poll_interval(prediction, now)


@pytest.mark.django_db
def test_without_a_progress_bar_the_next_poll_waits_for_the_fastest_recent_run(run_times):
    run_times(6.0, 8.0)
    prediction, remote, now = schnell(1.5)
    assert pipeline.poll_delay(prediction, remote, now) == pytest.approx(4.5 + pipeline.PROGRESS_MARGIN)


@pytest.mark.django_db
def test_past_the_fastest_run_polls_come_a_third_of_the_spread_apart(run_times):
    run_times(4.0, 7.0)
    prediction, remote, now = schnell(4.5)
    assert pipeline.poll_delay(prediction, remote, now) == pytest.approx(1.0)


@pytest.mark.django_db
def test_runs_that_all_took_as_long_are_followed_by_quick_polls(run_times):
    run_times(2.0, 2.0)
    prediction, remote, now = schnell(2.5)
    assert pipeline.poll_delay(prediction, remote, now) == pipeline.FINISHING_POLL


@pytest.mark.django_db
def test_a_prediction_slower_than_every_recent_run_keeps_the_fixed_schedule(run_times):
    run_times(2.0)
    prediction, remote, now = schnell(3.5)
    assert pipeline.poll_delay(prediction, remote, now) == pipeline.poll_interval(prediction, now)


@pytest.fixture
def no_run_yet():
    """A model with no run to learn from, and no prediction of it seen running in this process."""
    pipeline._recent_runs.clear()
    pipeline._still_running_at.clear()
    yield
    pipeline._recent_runs.clear()
    pipeline._still_running_at.clear()


@pytest.mark.django_db
def test_with_no_run_yet_a_prediction_younger_than_one_found_running_waits_until_it_is_as_old(no_run_yet):
    prediction, remote, now = schnell(3)
    pipeline._still_running_at[(SCHNELL, 1)] = (12.0, now)
    assert pipeline.poll_delay(prediction, remote, now) == pytest.approx(9.0)


@pytest.mark.django_db
def test_with_no_run_yet_a_poll_that_finds_a_prediction_running_records_its_age(no_run_yet):
    prediction, remote, now = schnell(7)
    prediction.poll_count = 1
    assert pipeline.poll_delay(prediction, remote, now) == pipeline.poll_interval(prediction, now)
    assert pipeline._still_running_at[(SCHNELL, 1)] == (pytest.approx(7.0), now)


def running_since(member, seconds_ago: float, next_poll_in: float, *, model_id: str = SCHNELL) -> Prediction:
    now = timezone.now()
    prompt = Prompt.objects.create(owner=member, text="a deer")
    return Prediction.objects.create(
        owner=member,
        prompt=prompt,
        model_id=model_id,
        input={"prompt": "a deer", "num_outputs": 1},
        status=Status.PROCESSING,
        submitted_at=now - timedelta(seconds=seconds_ago),
        next_poll_at=now + timedelta(seconds=next_poll_in),
    )


@pytest.mark.django_db
def test_once_a_models_first_run_is_known_its_later_polls_come_forward_to_the_end_it_predicts(member, no_run_yet):
    late = running_since(member, 5, 20)
    already_due = running_since(member, 9, 10)
    under_way = running_since(member, 5, 55)  # a poll's lease
    other = running_since(member, 5, 20, model_id=IDEOGRAM)
    assert pipeline.polls_bring_forward(SCHNELL, 1, fastest=6.0) == 2
    for prediction in (late, already_due, under_way, other):
        prediction.refresh_from_db()
    assert late.next_poll_at == pytest.approx(late.submitted_at + timedelta(seconds=6.25), abs=timedelta(0))
    assert already_due.next_poll_at <= timezone.now()
    assert under_way.next_poll_at > timezone.now() + timedelta(seconds=50)
    assert other.next_poll_at > timezone.now() + timedelta(seconds=15)


@pytest.mark.django_db
def test_learning_a_models_first_runs_brings_its_waiting_polls_forward(member, run_times, no_run_yet):
    late = running_since(member, 5, 20)
    assert pipeline.recent_run_times(SCHNELL, 1) is None
    pipeline._recent_runs[(SCHNELL, 1)] = (0.0, None)  # read long ago
    run_times(6.0)
    assert pipeline.recent_run_times(SCHNELL, 1) == pipeline.RunTimes(6.0, 6.0)
    late.refresh_from_db()
    assert late.next_poll_at < timezone.now() + timedelta(seconds=5)


@pytest.mark.django_db
def test_with_no_run_yet_a_prediction_younger_than_one_found_running_backs_off_by_doubling(no_run_yet):
    prediction, remote, now = schnell(6)
    pipeline._still_running_at[(SCHNELL, 1)] = (7.0, now - timedelta(seconds=1))  # 8 s old now
    assert pipeline.poll_delay(prediction, remote, now) == pytest.approx(6.0)


@pytest.mark.django_db
def test_with_no_run_yet_predictions_submitted_with_the_oldest_probe_with_it(no_run_yet):
    prediction, remote, now = schnell(6)
    prediction.poll_count = 3
    pipeline._still_running_at[(SCHNELL, 1)] = (6.1, now)
    assert pipeline.poll_delay(prediction, remote, now) == pipeline.poll_interval(prediction, now)


@pytest.mark.django_db
def test_with_no_run_yet_one_found_running_long_ago_is_forgotten(no_run_yet):
    prediction, remote, now = schnell(3)
    seen = now - timedelta(seconds=pipeline.STILL_RUNNING_FORGET + 1)
    pipeline._still_running_at[(SCHNELL, 1)] = (12.0, seen)
    assert pipeline.poll_delay(prediction, remote, now) == pipeline.poll_interval(prediction, now)
