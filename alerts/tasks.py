"""Celery tasks of budget alerts: an email and a Slack post per alert, each retried with backoff.

Not acks_late: losing a message with a dying worker loses one email or post, while acks_late
could send it twice; a failure to send never holds up anything else (the alert is recorded and
the notification made before these run).
"""

from __future__ import annotations

from celery import shared_task

from alerts import delivery

RETRIES = 4


@shared_task(
    name="alerts.tasks.budget_alert_email",
    autoretry_for=(OSError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=RETRIES,
    soft_time_limit=60,
    time_limit=90,
)
def budget_alert_email(alert_id: int) -> None:
    delivery.budget_alert_email(alert_id)


@shared_task(
    name="alerts.tasks.budget_alert_slack",
    autoretry_for=(delivery.SlackPostFailed,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=RETRIES,
    soft_time_limit=30,
    time_limit=45,
)
def budget_alert_slack(alert_id: int) -> None:
    delivery.budget_alert_slack(alert_id)
