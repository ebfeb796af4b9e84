"""Celery tasks of webhooks: thin adapters that take an outbox row's id and call a service.

Not acks_late: a delivery claims its row with a lease, and the sweep sends again a row whose
lease ran out, so a message lost with a dying worker loses nothing. That sweep runs with the
predictions' beat sweep (registered in WebhooksConfig.ready()), not as a beat task of its own.
"""

from celery import shared_task
from django.conf import settings

from webhooks import delivery


@shared_task(
    name="webhooks.tasks.deliver",
    soft_time_limit=settings.WEBHOOK_CALL_LIMIT - 5,
    time_limit=settings.WEBHOOK_CALL_LIMIT,
)
def deliver(outbox_id: int, lease: str | None = None) -> None:
    delivery.webhook_deliver(outbox_id, lease=lease)
