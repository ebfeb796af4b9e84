"""Celery tasks: thin adapters that take a prediction id and call a service.

Every task re-reads the row and claims it with a conditional UPDATE, so a
duplicate or redelivered message does nothing. Time limits sit below the
matching lease in services.py.
"""

from celery import shared_task

from . import services


@shared_task(name="predictions.tasks.submit", soft_time_limit=60, time_limit=90)
def submit(prediction_id: int) -> None:
    services.prediction_submit(prediction_id)


@shared_task(name="predictions.tasks.poll", soft_time_limit=45, time_limit=60, acks_late=True)
def poll(prediction_id: int) -> None:
    services.prediction_refresh(prediction_id)


@shared_task(name="predictions.tasks.store", soft_time_limit=180, time_limit=210, acks_late=True)
def store(prediction_id: int) -> None:
    services.prediction_store_outputs(prediction_id)


@shared_task(name="predictions.tasks.cancel", soft_time_limit=45, time_limit=60)
def cancel(prediction_id: int) -> None:
    services.prediction_cancel_remote(prediction_id)


@shared_task(name="predictions.tasks.sweep", soft_time_limit=30, time_limit=45)
def sweep() -> None:
    services.predictions_sweep()
