"""Webhooks of predictions, as Replicate sends them: subscribe, the events that make a message
due, and members' signing secrets. Sending is in delivery.py.

- `webhook_subscribe` (inside the transaction that creates the prediction) stores the URL
  encrypted and one outbox row per chosen event.
- The receivers of the predictions' signals only mark a row due and, once the transaction
  commits, enqueue its delivery task: no HTTP inside a transaction. At most one message per
  (prediction, event kind) is pending; `output` and `logs` go at most once every 500 ms.
- The signing secret is derived, never stored: HMAC(SECRET_KEY's signing key, member id + salt).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from predictions.models import Status, Via
from webhooks import keys
from webhooks.models import Event, WebhookOutbox, WebhookSigningKey, WebhookSubscription
from webhooks.targets import (
    Resolver,
    WebhookError,
    WebhookEventsError,
    WebhookHostUnresolved,
    WebhookURLError,
    target_resolve,
    webhook_url_check,
)

if TYPE_CHECKING:
    from predictions.models import Prediction, User

__all__ = [
    "WEBHOOK_EVENTS",
    "WEBHOOK_EVENTS_DEFAULT",
    "Event",
    "WebhookError",
    "WebhookEventsError",
    "WebhookHostUnresolved",
    "WebhookURLError",
    "webhook_secret_for",
    "webhook_secret_rotate",
    "webhook_subscribe",
    "webhook_url_check",
]

# Replicate's events, in its order; a create without `webhook_events_filter` gets Replicate's
# default: new output and completion.
WEBHOOK_EVENTS: tuple[str, ...] = (Event.START, Event.OUTPUT, Event.LOGS, Event.COMPLETED)
WEBHOOK_EVENTS_DEFAULT: tuple[str, ...] = (Event.OUTPUT, Event.COMPLETED)
# Replicate sends these at most once per 500 ms; `start` and `completed` are never held back.
THROTTLED = frozenset({Event.OUTPUT, Event.LOGS})
THROTTLE = timedelta(milliseconds=500)
# Statuses that mean DeerAPI has the prediction: the first move to one of them is `start`.
STARTED = frozenset({Status.STARTING, Status.PROCESSING, Status.STORING})


# --- Subscribe ----------------------------------------------------------------------


def _events_clean(events: Iterable[str]) -> list[str]:
    chosen = [events] if isinstance(events, str) else list(events)
    for event in chosen:
        if event not in WEBHOOK_EVENTS:
            raise WebhookEventsError(
                _("Unknown webhook event “%(event)s”: choose among %(events)s.")
                % {"event": event, "events": ", ".join(WEBHOOK_EVENTS)}
            )
    if not chosen:
        raise WebhookEventsError(
            _("Choose at least one webhook event among %(events)s.") % {"events": ", ".join(WEBHOOK_EVENTS)}
        )
    return [event for event in WEBHOOK_EVENTS if event in chosen]


def webhook_subscribe(
    prediction: Prediction, url: str, events: Iterable[str], *, resolver: Resolver | None = None
) -> WebhookSubscription:
    """Have `prediction`'s `events` POSTed to `url`, signed with its owner's secret.

    Checks the events and the URL first (WebhookEventsError, WebhookURLError: nothing is
    saved). Call it inside the transaction that creates the prediction, after checking the URL
    with `webhook_url_check` before that transaction (the check resolves the host; it is done
    again here). `resolver` replaces DNS (tests)."""
    chosen = _events_clean(events)
    target = target_resolve(url, resolver=resolver)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            prediction=prediction,
            member_id=prediction.owner_id,
            url_encrypted=keys.url_encrypt(url),
            host=target.host,
            events=chosen,
        )
        WebhookOutbox.objects.bulk_create([WebhookOutbox(subscription=subscription, event=event) for event in chosen])
    return subscription


# --- Signing secrets -----------------------------------------------------------------


def _salt() -> str:
    return secrets.token_urlsafe(32)


def signing_secret_of(member_id: int) -> str:
    """The member's current signing secret (a salt is made on first use)."""
    key, _created = WebhookSigningKey.objects.get_or_create(member_id=member_id, defaults={"salt": _salt()})
    return keys.signing_secret(member_id, key.salt)


def webhook_secret_for(user: User) -> str:
    """The `whsec_…` secret that signs `user`'s webhooks (Replicate's GET /v1/webhooks/default/secret)."""
    return signing_secret_of(user.pk)


def webhook_secret_rotate(user: User) -> str:
    """Give `user` a new signing secret (a new salt) and return it; the old one stops verifying
    at once, for messages still to be retried too. Audited, without the secret."""
    salt = _salt()
    now = timezone.now()
    with transaction.atomic():
        key, created = WebhookSigningKey.objects.select_for_update().get_or_create(
            member=user, defaults={"salt": salt, "created_at": now}
        )
        if not created:
            key.salt, key.rotated_at = salt, now
            key.save(update_fields=["salt", "rotated_at"])
        audit_record(
            actor=user,
            action="user.webhook_secret_rotate",
            target=user,
            summary=f"{user.get_username()} rotated their webhook signing secret",
        )
    return keys.signing_secret(user.pk, salt)


# --- Events ----------------------------------------------------------------------------


def enqueue(outbox_id: int, countdown: float = 0.0, *, lease: datetime | None = None) -> None:
    """Send the delivery task once the current transaction commits (at once outside one), behind
    polls and stores and ahead of creates (settings.CELERY_TASK_ROUTES). A broker that fails here
    loses nothing: the sweep sends the due row later."""
    kwargs = {"lease": lease.isoformat()} if lease is not None else {}

    def send() -> None:
        current_app.send_task(
            "webhooks.tasks.deliver",
            args=[outbox_id],
            kwargs=kwargs,
            countdown=max(0.0, countdown),
        )

    transaction.on_commit(send, robust=True)


def webhook_events_due(prediction_id: int, events: Iterable[str], *, once: bool = False) -> None:
    """Mark the prediction's outbox rows of `events` due (those its webhook subscribed to).

    A row already due (or being sent) only records that something changed: the message it
    sends is built when sent, and its sender sends again if the change came too late for it.
    `once`: only a row that was never due (`start`). One query when the prediction has no webhook.
    """
    rows = list(
        WebhookOutbox.objects.filter(subscription__prediction_id=prediction_id, event__in=list(events)).values_list(
            "pk", "event", "due_at", "last_attempt_at", "version"
        )
    )
    now = timezone.now()
    for pk, event, due_at, last_attempt_at, version in rows:
        if once and version:
            continue
        if due_at is not None and WebhookOutbox.objects.filter(pk=pk, due_at__isnull=False).update(
            version=F("version") + 1
        ):
            continue
        when = now
        if event in THROTTLED and last_attempt_at is not None:
            when = max(now, last_attempt_at + THROTTLE)
        idle: dict[str, Any] = {"due_at__isnull": True, **({"version": 0} if once else {})}
        if WebhookOutbox.objects.filter(pk=pk, **idle).update(
            due_at=when, version=F("version") + 1, message_id=uuid.uuid4(), attempts=0
        ):
            enqueue(pk, (when - now).total_seconds())
        elif not once:  # made due by another event meanwhile
            WebhookOutbox.objects.filter(pk=pk).update(version=F("version") + 1)


def prediction_changed_received(
    sender: Any, prediction_id: int, status: str, logs_changed: bool = False, via: str | None = None, **kwargs: Any
) -> None:
    """`start` on the first move to a status at DeerAPI; `logs` when a poll brought new logs.
    Only the API takes a webhook: a prediction known to come from the web asks nothing."""
    if via == Via.WEB:
        return
    if logs_changed:
        webhook_events_due(prediction_id, [Event.LOGS])
    elif status in STARTED:
        webhook_events_due(prediction_id, [Event.START], once=True)


def prediction_finished_received(sender: Any, prediction: Prediction, status: str, **kwargs: Any) -> None:
    """`completed` at the end (after its images are stored, for a success), and `output` with
    them: DeerWeb has a prediction's output only once it is stored."""
    if prediction.via == Via.WEB:
        return
    events = [Event.COMPLETED, Event.OUTPUT] if status == Status.SUCCEEDED else [Event.COMPLETED]
    webhook_events_due(prediction.pk, events)
