"""The pages and submit benchmarks (bench/pages.py, bench/submit.py) on a tiny workload, so they
cannot rot: each runs as `python -m bench` does, on a database of its own, and prints its figures.

Only what does not depend on the machine's speed is asserted as a result: the quota never overspent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from tests.settings import TEST_PROCESS
from tests.world import ROOT, database_url

# The benchmarks run on PostgreSQL and Redis only.
pytestmark = [pytest.mark.services, pytest.mark.postgresql, pytest.mark.redis]

MS = r"\d+(\.\d)? ms"


def _bench(name: str, *options: str) -> str:
    """Run one benchmark on its own database, named after the test database and this test process
    (pytest-xdist's, so parallel ones never share it); its output."""
    bench_database_url = f"{database_url()}_bench_smoke_{name}_{TEST_PROCESS}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            name,
            *options,
            "--database-url",
            bench_database_url,
            "--redis-url",
            settings.CELERY_BROKER_URL,
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"python -m bench {name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _rows(output: str, first: str) -> dict[str, list[str]]:
    """The rows of the printed table whose first header is `first`, by their first cell."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first} "))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = cells
    return rows


def test_the_pages_benchmark_prints_time_and_query_counts_of_every_page_on_a_tiny_seed(real_services):
    output = _bench(
        "pages",
        "--predictions",
        "600",
        "--outputs",
        "1200",
        "--members",
        "5",
        "--first-stage",
        "0.25",
        "--requests",
        "3",
        "--warmup",
        "1",
    )

    assert "Command: python -m bench pages --predictions 600" in output
    assert re.search(r"^Machine: \d+ CPUs", output, re.MULTILINE)
    assert re.search(r"^Seeded stage 2: \+\d+ predictions", output, re.MULTILINE)
    rows = _rows(output, "Page")
    names = ["Home", "Home, admin", "History", "Gallery", "Review queue", "Collections", "Share link page", "Usage"]
    names += ["Team usage", "Admin: predictions"]
    for name in names:
        assert name in rows, f"no row for {name}:\n{output}"
    assert any(name.startswith("History, search") for name in rows)
    assert any(name.startswith("Detail") for name in rows)
    assert rows["Playground (50 results)"][2] == "50", "the playground shows a full session's results"
    for cells in rows.values():
        _page, _who, shown, median, p95, cpu, queries, *_rest, result = cells
        assert shown.isdigit() and queries.isdigit(), cells
        assert all(re.fullmatch(MS, value) for value in (median, p95, cpu)), cells
        assert result == "PASS" or result.startswith("MISS"), cells
    assert re.search(r"^  (PASS|MISS)  p95 ≤ 30 ms on every page", output, re.MULTILINE)
    assert re.search(r"^  (PASS|MISS)  constant query counts on every page", output, re.MULTILINE)


@pytest.mark.parametrize("how", ["playground.js", "plain"])
def test_the_submit_benchmark_prints_latency_and_throughput_and_never_overspends_on_a_tiny_run(real_services, how):
    output = _bench("submit", "--members", "6", "--per-member", "4", *(["--plain"] if how == "plain" else []))

    assert "Command: python -m bench submit --members 6" in output
    # Through the Procfile's web process, posted as the playground's script or the plain form does.
    expected = "as the form does without JavaScript" if how == "plain" else "as playground.js does"
    assert expected in output, output
    assert re.search(r"^Outcome: [1-9]\d* accepted; .*; 0 errors$", output, re.MULTILINE), output
    assert re.search(r"CPU per submission: web processes [\d.]+ ms, PostgreSQL [\d.]+ ms", output), output
    rows = _rows(output, "Submissions")
    assert rows["All"][1] == "24"
    assert all(re.fullmatch(MS, value) for value in rows["All"][2:5]), rows["All"]
    assert re.search(r"^Throughput: 24 submissions in [\d.]+ s = [\d.]+ per second", output, re.MULTILINE)
    assert "  PASS  the quota is never overspent" in output
    assert re.search(
        r"^  PASS  every accepted submission is one prediction, one reserve entry and one queued row",
        output,
        re.MULTILINE,
    )
