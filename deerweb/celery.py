"""The Celery app: `celery -A deerweb worker` and `celery -A deerweb beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deerweb.settings")

app = Celery("deerweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
