"""The benchmark scripts on a tiny workload, so they cannot rot.

`make bench` prints figures and judges nothing; here each benchmark runs for real (its own
database, Redis queues named after it, the simulator and Celery workers as processes) on a
workload small enough for the test suite, and must finish and print all its figures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings

from bench import harness
from tests import world
from tests.settings import TEST_PROCESS
from tests.world import ROOT


@pytest.fixture
def bench_database_url(real_services) -> Iterator[str]:
    """A database of its own beside the test database (the benchmark drops and creates it), one
    per test process (pytest-xdist's), so benchmarks run by parallel test processes never share one."""
    url = f"{world.database_url()}_bench_{TEST_PROCESS}"
    yield url
    harness.database_drop(url)


def run_bench(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bench *args`; with `database_url`, on that database and the tests' Redis."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DEERAPI_"))}
    if database_url is not None:
        args = (*args, "--database-url", database_url, "--redis-url", settings.CELERY_BROKER_URL)
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.services
@pytest.mark.postgresql
@pytest.mark.redis
def test_the_pipeline_benchmark_runs_a_tiny_workload_beside_both_peers_and_prints_every_figure(bench_database_url):
    result = run_bench(
        "pipeline",
        "--predictions",
        "10",
        "--peer-predictions",
        "4",
        "--peer-slots",
        "2",
        "--async-in-flight",
        "5",
        "--output-size",
        "full",
        "--run-seconds",
        "0.5",
        "--members",
        "3",
        "--threads",
        "2",
        "--concurrency",
        "2",
        "--workers",
        "2",
        database_url=bench_database_url,
    )
    output = result.stdout
    assert result.returncode == 0, f"{output[-3000:]}\n{result.stderr[-3000:]}"
    assert "Workers: DeerWeb's, 2 Celery worker processes, each as the Procfile starts it" in output, output
    assert "MB each (the peak of their sum, divided) at the peak" in output, output

    assert "Machine: " in output and "Command: python -m bench pipeline --predictions 10" in output
    assert "| Outcome " in output
    assert "progress bars in the logs) --" in output and "no progress bar in the logs) --" in output, output
    assert "DeerAPI calls each create's webhook as it ends) --" in output, output
    # DeerWeb in each of the four worlds, and the async_run() script in the two without webhooks
    assert output.count("10 of 10 succeeded") == 6, output
    assert output.count("4 of 4 succeeded") == 2, output  # the run() peer
    assert "`run()`, 2 slots (4 predictions, fewer)" in output and "`async_run()`, 5 in flight" in output, output
    assert "1 webp image each of 1 MP" in output
    for figure in (
        "Throughput: predictions stored",
        "Wall time until all stored",
        "In flight at the peak",
        "DeerAPI requests per prediction",
        "creates / polls per prediction",
        "Lag, DeerAPI done → shown succeeded",
        "Submitted → shown succeeded (DeerWeb)",
        "Worker RSS at the peak",
        "Worker CPU time",
        "SQL statements per prediction: worker / create",
    ):
        assert figure in output, f"{figure!r} missing from:\n{output}"
    assert "TIMED OUT" not in output
    # One create per prediction in each column (DeerWeb alone where DeerAPI calls back), every figure a number.
    creates = re.findall(r"creates / polls per prediction((?:\s*\|\s*[\d.]+ / [\d.]+)+)", output)
    assert [re.findall(r"([\d.]+) / ", cells) for cells in creates] == [["1.00"] * 3] * 2 + [["1.00"]] * 2, output
    statements = re.findall(r"SQL statements per prediction: worker / create\s*\|\s*([\d.]+) / ([\d.]+)", output)
    assert len(statements) == 4 and all(float(worker) > 5 and float(create) > 3 for worker, create in statements), (
        output
    )
    assert not re.search(r"\bnan\b", output, re.IGNORECASE), output
    verdicts = re.findall(r"^  (PASS|MISS)  ", output, re.MULTILINE)
    assert len(verdicts) == 5, output


def test_the_bench_command_lists_every_benchmark_in_its_help():
    result = run_bench("--help")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\s+pipeline\s+Pipeline benchmark", result.stdout, re.MULTILINE), result.stdout


def test_the_images_benchmark_stores_each_size_and_format_and_prints_its_cpu_per_megapixel():
    result = run_bench("images", "--megapixels", "0.25", "1", "--formats", "png", "jpg", "--repeats", "1")
    output = result.stdout
    assert result.returncode == 0, f"{output[-3000:]}\n{result.stderr[-3000:]}"

    rows = re.findall(r"^\| (png|jpg) +\| (\d+)×(\d+) .*\| ([\d.]+) ms +\| ([\d.]+) ms +\|", output, re.MULTILINE)
    assert [(fmt, width, height) for fmt, width, height, _, _ in rows] == [
        ("png", "512", "512"),
        ("png", "1024", "1024"),
        ("jpg", "512", "512"),
        ("jpg", "1024", "1024"),
    ], output
    assert all(float(per_image) > 0 and float(per_megapixel) > 0 for *_, per_image, per_megapixel in rows), output
