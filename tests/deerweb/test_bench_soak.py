"""The soak benchmark (bench/soak.py): its memory verdict, and a tiny run so it cannot rot."""

from __future__ import annotations

import re

import pytest

from bench.soak import memory_trend
from tests.deerweb.test_bench_smoke import bench_database_url, run_bench  # noqa: F401 - the fixture

MB = 1_000_000


def test_memory_that_grows_at_start_up_and_then_holds_is_flat():
    samples = [300 * MB, 420 * MB, 450 * MB, 455 * MB] + [460 * MB] * 12

    trend = memory_trend(samples, tolerance=0.10)

    assert trend is not None and trend.flat
    assert trend.second_quarter == 460 * MB and trend.last_quarter == 460 * MB


def test_memory_that_keeps_growing_past_the_tolerance_is_not_flat():
    samples = [400 * MB + step * 5 * MB for step in range(40)]  # 400 MB → 595 MB, steadily

    trend = memory_trend(samples, tolerance=0.10)

    assert trend is not None and not trend.flat
    assert trend.growth == pytest.approx((572.5 - 472.5) / 472.5)


def test_memory_that_shrinks_is_flat_and_a_rise_within_the_tolerance_too():
    assert memory_trend([500 * MB] * 8 + [450 * MB] * 8, tolerance=0.10).flat
    assert memory_trend([500 * MB] * 8 + [545 * MB] * 8, tolerance=0.10).flat
    assert not memory_trend([500 * MB] * 8 + [555 * MB] * 8, tolerance=0.10).flat


def test_fewer_than_eight_samples_are_too_few_to_judge():
    assert memory_trend([400 * MB] * 7, tolerance=0.10) is None
    assert memory_trend([400 * MB] * 8, tolerance=0.10) is not None


@pytest.mark.services
@pytest.mark.postgresql
@pytest.mark.redis
def test_the_soak_benchmark_ends_every_prediction_under_faults_and_prints_every_figure(bench_database_url):  # noqa: F811
    result = run_bench(
        "soak",
        "--predictions",
        "30",
        "--workers",
        "2",
        "--concurrency",
        "1",
        "--error-rate",
        "0.1",
        "--timeout-rate",
        "0.05",
        "--drop-rate",
        "0.1",
        "--read-timeout",
        "0.5",
        "--run-seconds",
        "0.5",
        "--members",
        "3",
        "--threads",
        "2",
        "--sample-interval",
        "0.2",
        database_url=bench_database_url,
    )
    output = result.stdout
    assert result.returncode == 0, f"{output[-3000:]}\n{result.stderr[-3000:]}"

    assert "Command: python -m bench soak --predictions 30" in output
    assert "celery -A deerweb worker" in output, "the workers are the Procfile's"
    for figure in ("| succeeded ", "| unknown ", "| file downloads ", "| worker 1 ", "| worker 2 ", "Throughput"):
        assert figure in output, f"{figure!r} missing from:\n{output}"
    faulted = re.findall(
        r"^\| (?:creates|polls|file downloads)\s*\| (\d+)\s*\| (\d+)\s*\| (\d+)\s*\| (\d+)", output, re.M
    )
    assert len(faulted) == 3 and sum(int(n) for row in faulted for n in row[1:]) > 0, output
    assert "PASS  none lost or stuck: 30 of 30 ended" in output
    assert "PASS  at most one prediction started at DeerAPI per DeerWeb prediction" in output
    assert "PASS  broker queue drained" in output
    assert "worker memory flat" in output
    assert not re.search(r"\bnan\b", output, re.IGNORECASE), output
