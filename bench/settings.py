"""Settings of the DeerWeb processes a benchmark starts: production settings, one change.

The Celery queue is named by the benchmark run (`DEERWEB_BENCH_QUEUE`), so a benchmark's worker
never takes a message meant for a test or dashboard worker on the same Redis database, and the
reverse. Everything else (prefetch, time limits, poll schedule) is exactly what production runs.
"""

import os

from deerweb.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ.get("DEERWEB_BENCH_QUEUE", "deerweb-bench")
