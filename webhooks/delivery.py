"""Sending a due webhook message: claim its outbox row, build the prediction's body fresh,
sign it, POST it to the checked address, record the attempt, and retry or finish.

Claims follow the pipeline's: a conditional UPDATE moves the row's `due_at` to the end of a
lease, so a duplicate or late message does nothing; a worker that dies mid-send leaves the
lease to run out, and the beat sweep (`webhooks_sweep`) sends the row again. Receivers must
therefore expect a message twice (same `webhook-id`), as Replicate's must.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks import Webhook

from ops.logging import prediction_context
from predictions import services as prediction_services
from predictions.replicate import prediction_as_replicate
from webhooks import keys, sending, services, targets
from webhooks.models import Event, Outcome, WebhookDelivery, WebhookOutbox

logger = logging.getLogger(__name__)

# How long a claim holds a row: past the delivery task's hard time limit.
LEASE = timedelta(seconds=settings.WEBHOOK_CALL_LIMIT + settings.LEASE_MARGIN)
# Tolerance for a countdown message that arrives a moment early.
EARLY = timedelta(milliseconds=500)
RETRY_DELAY_MAX = 900.0
SWEEP_BATCH = 500
# Errors worth another try: no answer (requests' connection errors and timeouts), or a host
# that did not resolve. A refused address or a URL that no key decrypts stays refused.
PERMANENT_ERRORS = frozenset({targets.WebhookURLError.__name__, InvalidToken.__name__})


def _signed_headers(secret: str, message_id: uuid.UUID, now: datetime, body: str) -> dict[str, str]:
    """Standard Webhooks' headers, as Replicate sends them."""
    webhook_id = f"msg_{message_id.hex}"
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": Webhook(secret).sign(webhook_id, datetime.fromtimestamp(timestamp, UTC), body),
    }


def _outcome(answer: sending.Answer, attempt: int, event: str) -> str:
    """Delivered on a 2xx. As Replicate does, only the terminal message (`completed`) is tried
    again: a missed `start`, `output` or `logs` is superseded by the next message, and a late
    retry would arrive after newer news."""
    if answer.status_code is not None and 200 <= answer.status_code < 300:
        return Outcome.DELIVERED
    if event != Event.COMPLETED:
        return Outcome.FAILED
    transient = (answer.status_code is not None and (answer.status_code == 429 or answer.status_code >= 500)) or (
        answer.status_code is None and answer.error not in PERMANENT_ERRORS
    )
    return Outcome.RETRYING if transient and attempt < settings.WEBHOOK_MAX_ATTEMPTS else Outcome.FAILED


def webhook_deliver(
    outbox_id: int,
    *,
    lease: str | None = None,
    resolver: targets.Resolver | None = None,
    verify: bool | str = True,
) -> str | None:
    """Send the message due on one outbox row; the attempt's outcome, or None when the row
    was not due (sent already, or not yet). `lease`: the `due_at` the sweep gave the row."""
    now = timezone.now()
    due = Q(due_at__lte=now + EARLY)
    if lease:
        due |= Q(due_at=datetime.fromisoformat(lease))
    held_until = now + LEASE
    if not WebhookOutbox.objects.filter(due, pk=outbox_id).update(due_at=held_until, attempts=F("attempts") + 1):
        return None
    row = WebhookOutbox.objects.select_related("subscription__prediction").get(pk=outbox_id)
    subscription = row.subscription
    prediction = subscription.prediction
    if row.attempts > settings.WEBHOOK_MAX_ATTEMPTS:
        # Claimed once more than it may be tried: its earlier tries never finished (a worker
        # killed while sending, or a task that raised), so it is given up rather than tried forever.
        _record(row, held_until, now, sending.Answer(error="AttemptsExhausted"), Outcome.FAILED)
        return Outcome.FAILED
    with prediction_context(prediction.pk), prediction_services.in_language(prediction.language):
        body = json.dumps(prediction_as_replicate(prediction, settings.WEBHOOK_BASE_URL))
        headers = _signed_headers(services.signing_secret_of(subscription.member_id), row.message_id, now, body)
        try:
            target = targets.target_resolve(keys.url_decrypt(subscription.url_encrypted), resolver=resolver)
        except (targets.WebhookURLError, InvalidToken) as exc:
            answer = sending.Answer(error=exc.__class__.__name__)
        else:
            answer = sending.webhook_post(target, body.encode(), headers, verify=verify)
        outcome = _outcome(answer, row.attempts, row.event)
        logger.info(
            "webhook subscription=%s event=%s attempt=%s status=%s error=%s outcome=%s",
            subscription.pk,
            row.event,
            row.attempts,
            answer.status_code,
            answer.error or "-",
            outcome,
        )
        _record(row, held_until, now, answer, outcome)
    return outcome


def _record(row: WebhookOutbox, held_until: datetime, now: datetime, answer: sending.Answer, outcome: str) -> None:
    """Keep the attempt, then free the row: due again for a retry, idle when done, or due with a
    new message when something changed after the claim (the body sent may predate it)."""
    held = WebhookOutbox.objects.filter(pk=row.pk, due_at=held_until)
    with transaction.atomic():
        WebhookDelivery.objects.create(
            subscription_id=row.subscription_id,
            event=row.event,
            message_id=row.message_id,
            attempt=row.attempts,
            at=now,
            status_code=answer.status_code,
            error=answer.error[:100],
            outcome=outcome,
        )
        if outcome == Outcome.RETRYING:
            delay = prediction_services.jittered(
                prediction_services.backoff(row.attempts, base=settings.WEBHOOK_RETRY_DELAY, cap=RETRY_DELAY_MAX),
                answer.retry_after,
            )
            if held.update(due_at=now + timedelta(seconds=delay), last_attempt_at=now):
                services.enqueue(row.pk, delay)
            return
        if held.filter(version=row.version).update(due_at=None, last_attempt_at=now):
            return
        when = now + services.THROTTLE if row.event in services.THROTTLED else now
        if held.update(due_at=when, attempts=0, message_id=uuid.uuid4(), last_attempt_at=now):
            services.enqueue(row.pk, (when - now).total_seconds())


def webhooks_sweep() -> int:
    """Send again the rows due more than SWEEP_GRACE seconds ago (a lost message, a worker
    that died while sending); how many. Run by the predictions' beat sweep (pipeline.sweep_register)."""
    now = timezone.now()
    late = now - timedelta(seconds=settings.SWEEP_GRACE)
    lease_until = now + LEASE
    sent = 0
    for pk, due_at in WebhookOutbox.objects.filter(due_at__lt=late).values_list("pk", "due_at")[:SWEEP_BATCH]:
        with transaction.atomic():
            if WebhookOutbox.objects.filter(pk=pk, due_at=due_at).update(due_at=lease_until):
                services.enqueue(pk, lease=lease_until)
                sent += 1
    if sent:
        logger.info("webhook sweep sent=%s", sent)
    return sent
