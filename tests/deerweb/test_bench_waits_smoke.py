"""The waits benchmark (bench/waits.py) on a tiny workload, so it cannot rot: every backend wakes every
waiter by its own notification, and every figure is printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from tests.world import ROOT, database_url

pytestmark = [pytest.mark.services, pytest.mark.postgresql, pytest.mark.redis]


def test_the_waits_benchmark_wakes_every_waiter_through_each_backend_and_prints_its_figures(real_services):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "waits",
            "--waiters",
            "20",
            "--rate",
            "200",
            "--database-url",
            f"{database_url()}_bench_waits",
            "--redis-url",
            settings.CELERY_BROKER_URL,
        ],
        cwd=ROOT,
        env={key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DEERWEB_"))},
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout
    assert result.returncode == 0, f"{output[-3000:]}\n{result.stderr[-3000:]}"

    assert "Command: python -m bench waits --waiters 20" in output
    for backend in ("local", "redis", "postgresql"):
        row = re.search(rf"^\| {backend} +\| 20 \+ 20 of 40 +\|(.*)$", output, re.MULTILINE)
        assert row, f"no full row for {backend}:\n{output}"
        cells = [cell.strip() for cell in row.group(1).strip("|").split("|")]
        assert all(re.fullmatch(r"[\d.]+ ms", cell) for cell in cells[:5]), cells
        assert re.fullmatch(r"[\d.]+ → [\d.]+ MB", cells[5]) and re.fullmatch(r"\d+ → \d+", cells[6]), cells
        assert cells[7] == "0", cells
    assert "  PASS  every waiter woken by its own notification" in output
    assert "  PASS  no waiter woken before its own notification was sent" in output
