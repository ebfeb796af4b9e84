from datetime import UTC, datetime, timedelta

import pytest

from deerapi.progress import Progress, progress_parse, progress_remaining

START = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)

TQDM_LOGS = (
    "Using seed: 1234\n"
    "  0%|          | 0/28 [00:00<?, ?it/s]\n"
    "  4%|▎         | 1/28 [00:00<00:13,  1.95it/s]\n"
    " 50%|█████     | 14/28 [00:07<00:07,  1.95it/s]\n"
)


def test_the_last_bar_of_tqdm_logs_gives_the_step_and_its_speed():
    assert progress_parse(TQDM_LOGS) == Progress(done=14, total=28, elapsed=7.0, step_seconds=1 / 1.95)


def test_a_bar_in_seconds_per_step_and_hours_is_read():
    logs = " 10%|█         | 3/30 [1:00:02<9:00:18, 1200.50s/it]\n"
    assert progress_parse(logs) == Progress(done=3, total=30, elapsed=3602.0, step_seconds=1200.5)


def test_the_simulators_fractional_seconds_are_read():
    logs = "Running prediction\n 25%|██        | 1/4 [0.38s<1.12s, 2.67it/s]\n"
    progress = progress_parse(logs)
    assert progress is not None
    assert (progress.done, progress.total, progress.elapsed) == (1, 4, 0.38)


@pytest.mark.parametrize(
    "logs",
    [
        "",
        "Using seed: 1\nRunning prediction\n",
        "  0%|          | 0/28 [00:00<?, ?it/s]\n",  # no speed yet
        "Downloading weights 5/3 [00:01<00:00, 3.00it/s]\n",  # more steps done than there are
    ],
)
def test_logs_without_a_usable_bar_give_no_estimate(logs):
    assert progress_parse(logs) is None
    assert progress_remaining(logs, START, START) is None


def test_the_remaining_steps_are_counted_from_the_bar():
    # 14 of 28 steps at 2 steps a second, printed just now: 7 s to go.
    logs = " 50%|█████     | 14/28 [00:07<00:07,  2.00it/s]\n"
    assert progress_remaining(logs, START, START + timedelta(seconds=7)) == pytest.approx(7.0)


def test_time_since_the_bar_was_printed_is_taken_off():
    logs = " 50%|█████     | 14/28 [00:07<00:07,  2.00it/s]\n"
    assert progress_remaining(logs, START, START + timedelta(seconds=7.3)) == pytest.approx(6.7)


@pytest.mark.parametrize("skew", [-30, 30])
def test_a_skewed_deerapi_clock_moves_the_estimate_by_at_most_one_step(skew):
    logs = " 50%|█████     | 14/28 [00:07<00:07,  2.00it/s]\n"
    started = START + timedelta(seconds=skew)
    remaining = progress_remaining(logs, started, START + timedelta(seconds=7))
    assert 6.5 <= remaining <= 7.0


def test_a_finished_bar_leaves_nothing_to_wait_for():
    logs = "100%|██████████| 4/4 [0.75s<0.00s, 5.33it/s]\n"
    assert progress_remaining(logs, None, START) == 0.0
