"""Celery tasks: thin adapters that take a prediction id and call a service.

Every task re-reads the row and claims it with a conditional UPDATE, so a
duplicate or redelivered message does nothing. `lease` is set on the messages the
sweep sends: the `next_poll_at` it gave the row, which the task may claim. Time limits sit below the
matching lease in services.py.
"""

from typing import Any

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.utils import timezone

from billing import deerapi_account
from deerapi import sync as model_sync
from ops import health
from ops.logging import about_prediction
from predictions import pipeline, poller, storing, uploads
from predictions.models import User


@shared_task(
    name="predictions.tasks.submit",
    soft_time_limit=settings.DEERAPI_CALL_LIMIT - 5,
    time_limit=settings.DEERAPI_CALL_LIMIT,
)
@about_prediction
def submit(prediction_id: int, lease: str | None = None) -> None:
    pipeline.prediction_submit(prediction_id, lease=lease)


# A poll that finds the prediction done stores its images in the same task (see
# pipeline.prediction_refresh), so it may take a call and a store.
POLL_LIMIT = settings.DEERAPI_CALL_LIMIT + settings.STORE_TIME_LIMIT


@shared_task(
    name="predictions.tasks.poll",
    soft_time_limit=POLL_LIMIT - 10,
    time_limit=POLL_LIMIT,
    acks_late=True,
)
@about_prediction
def poll(prediction_id: int, lease: str | None = None) -> None:
    pipeline.prediction_refresh(prediction_id, lease=lease)


@shared_task(
    name="predictions.tasks.store",
    soft_time_limit=settings.STORE_TIME_LIMIT - 10,
    time_limit=settings.STORE_TIME_LIMIT,
    acks_late=True,
)
@about_prediction
def store(prediction_id: int, lease: str | None = None) -> None:
    storing.prediction_store_outputs(prediction_id, lease=lease)


@shared_task(
    name="predictions.tasks.cancel",
    soft_time_limit=settings.DEERAPI_CALL_LIMIT - 5,
    time_limit=settings.DEERAPI_CALL_LIMIT,
)
@about_prediction
def cancel(prediction_id: int) -> None:
    pipeline.prediction_cancel_remote(prediction_id)


@shared_task(name="predictions.tasks.sweep", soft_time_limit=30, time_limit=45)
def sweep() -> None:
    pipeline.predictions_sweep()
    health.heartbeat_record(health.SWEEP)  # /healthz: the sweep (and so beat and a worker) runs
    health.task_failures_prune(timezone.now())
    for app_sweep in pipeline.registered_sweeps():
        app_sweep()


@shared_task(name="predictions.tasks.deerapi_balance_refresh", soft_time_limit=45, time_limit=60)
def deerapi_balance_refresh() -> None:
    deerapi_account.deerapi_balance_refresh()


@shared_task(name="predictions.tasks.models_sync", soft_time_limit=45, time_limit=60)
def models_sync(actor_id: int | None = None) -> None:
    """The admin's "Check DeerAPI's model list": the report lands in the audit log."""
    model_sync.models_sync(actor=User.objects.filter(pk=actor_id).first() if actor_id else None)


@shared_task(name="predictions.tasks.input_images_purge", soft_time_limit=60, time_limit=90)
def input_images_purge() -> None:
    """Uploads no prediction was made with, older than a day: rows and files go, a batch at a time."""
    while uploads.input_images_purge() == uploads.PURGE_BATCH:
        pass


# Tasks whose first argument is a prediction's id (/healthz names the prediction a failure was about).
PREDICTION_TASKS = frozenset({submit.name, poll.name, store.name, cancel.name})


# The worker polls due predictions itself (predictions/poller.py), from its main process.
@worker_ready.connect
def _poller_start(**kwargs: Any) -> None:
    poller.poller_start()


@worker_shutdown.connect
def _poller_stop(**kwargs: Any) -> None:
    poller.poller_stop()
