"""The Celery app: `celery -A deerweb worker` and `celery -A deerweb beat`."""

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deerweb.settings")

app = Celery("deerweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Around every task, as Django does around every request: drop a database
# connection that broke or outlived CONN_MAX_AGE, so a reused one (CELERY_DB_REUSE_MAX)
# recovers from a dropped connection. Eager tasks run inside their caller's transaction.
@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender: Task | None = None, **kwargs: Any) -> None:
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
