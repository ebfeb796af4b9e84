"""The Celery app: `celery -A deerweb worker` and `celery -A deerweb beat`."""

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deerweb.settings")

app = Celery("deerweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Around every task: the task thread keeps its database connection (one round trip less per
# task than taking one from the pool and checking it), unless it failed or was left in a
# transaction (common.db). Eager tasks run inside their caller's transaction.
@task_prerun.connect
@task_postrun.connect
def _connections_tidy(sender: Task | None = None, **kwargs: Any) -> None:
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from common.db import connections_keep_if_usable

    connections_keep_if_usable()
