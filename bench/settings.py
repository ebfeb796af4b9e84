"""Settings of the DeerWeb processes a benchmark starts: production settings, three changes.

The Celery queue is named by the benchmark run (`DEERWEB_BENCH_QUEUE`), so a benchmark's worker
never takes a message meant for a test or dashboard worker on the same Redis database, and the
reverse; so is the local notifier's folder (`DEERWEB_BENCH_NOTIFY_DIR`), so a benchmark never wakes
a dashboard's waiting requests on the same checkout. And each process counts its SQL statements
(bench/counting.py). Everything else (prefetch, time limits, poll
schedule) is exactly what production runs.
"""

import os
from pathlib import Path

from deerweb.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ.get("DEERWEB_BENCH_QUEUE", "deerweb-bench")
# Counts the SQL statements each process runs (bench/counting.py).
INSTALLED_APPS = [*INSTALLED_APPS, "bench.counting.CountingConfig"]  # noqa: F405
if os.environ.get("DEERWEB_BENCH_NOTIFY_DIR"):
    NOTIFY_DIR = Path(os.environ["DEERWEB_BENCH_NOTIFY_DIR"])
