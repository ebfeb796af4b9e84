"""The Celery app: `celery -A deerweb worker` and `celery -A deerweb beat`."""

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deerweb.settings")

app = Celery("deerweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Around every task, as Django does around every request: with CONN_MAX_AGE 0 the task's
# database connection goes back to the process's pool (PostgreSQL) or is closed (SQLite), and
# the next task takes a checked one. (The worker's pollers keep theirs: predictions/poller.py.)
# Eager tasks run inside their caller's transaction.
@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender: Task | None = None, **kwargs: Any) -> None:
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
