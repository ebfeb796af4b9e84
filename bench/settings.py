"""Settings of the DeerWeb processes a benchmark starts: production settings, two changes.

The Celery queue is named by the benchmark run (`DEERWEB_BENCH_QUEUE`), so a benchmark's worker
never takes a message meant for a test or dashboard worker on the same Redis database, and the
reverse; so is the local notifier's folder (`DEERWEB_BENCH_NOTIFY_DIR`), so a benchmark never wakes
a dashboard's waiting requests on the same checkout. Everything else (prefetch, time limits, poll
schedule) is exactly what production runs.
"""

import os
from pathlib import Path

from deerweb.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ.get("DEERWEB_BENCH_QUEUE", "deerweb-bench")
if os.environ.get("DEERWEB_BENCH_NOTIFY_DIR"):
    NOTIFY_DIR = Path(os.environ["DEERWEB_BENCH_NOTIFY_DIR"])
