"""The writes to predictions a member or an admin starts (create, run again, compare, cancel,
re-poll, resolve an unknown outcome) and the core the worker's steps share
(predictions.pipeline: submit, poll, sweep; predictions.storing: store).

Rules kept here:
- a status only changes through `prediction_transition`, a conditional UPDATE that also
  checks `TRANSITIONS`, so two workers can never both act on one row;
- the create POST is sent at most once per prediction; when its outcome is
  unknown the prediction becomes `unknown` instead of being sent again;
- tasks are enqueued with `transaction.on_commit`, after the row they name exists;
- every change a member could be waiting for (status, logs, outputs) is followed by one
  `ops.notifier.notify`, delivered once it commits: here for every status change, in
  predictions.pipeline for the submit claim and new logs, in predictions.storing for outputs
  stored by a store that will be tried again.
"""

from __future__ import annotations

import logging
import math
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from billing import services as billing
from billing.models import LedgerKind
from catalog import selectors as catalog_selectors
from catalog.inputs import InputField, ModelSpec
from common.db import update_returning
from ops import health, notifier
from predictions import settlement, signals, uploads
from predictions.models import (
    ACTIVE,
    CANCELABLE,
    REMOTE,
    TERMINAL,
    InputImage,
    Prediction,
    Prompt,
    Status,
    User,
    Via,
    can_transition,
)

logger = logging.getLogger(__name__)


class PredictionInputError(ValueError):
    """The input does not fit the model's schema; nothing was saved or sent."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# --- Enqueueing ---------------------------------------------------------------


# Tolerance for a countdown message that arrives a moment early.
EARLY = timedelta(milliseconds=500)


def enqueue(task: str, prediction_id: int, countdown: float = 0.0, *, lease: datetime | None = None) -> None:
    """Send a task once the current transaction commits (at once outside one), at its task's
    priority (settings.CELERY_TASK_ROUTES: creates after polls and stores).

    `lease`: the `next_poll_at` the sweep gave the row when it claimed it (see
    `predictions_sweep`); the task may claim the row while it still holds that value.
    """
    kwargs = {"lease": lease.isoformat()} if lease is not None else {}

    def send() -> None:
        current_app.send_task(
            f"predictions.tasks.{task}",
            args=[prediction_id],
            kwargs=kwargs,
            countdown=max(0.0, countdown),
        )

    transaction.on_commit(send)


def create_messages() -> bool:
    """Whether a prediction due for its create is sent to the workers as a Celery message.
    Not when workers run pollers (settings.POLL_THREADS, the same on every process): they claim
    queued rows as they fall due (predictions/poller.py), and the beat sweep sends a message for
    one left waiting longer than SWEEP_GRACE."""
    return settings.POLL_THREADS == 0


def due(now: datetime, lease: str | None) -> Q:
    """Rows a task may claim: due now, or still holding the lease the sweep sent it with."""
    due = Q(next_poll_at__lte=now + EARLY)
    if lease:
        due |= Q(next_poll_at=datetime.fromisoformat(lease))
    return due


def in_language(language: str):
    """What a worker writes about a prediction (its error, mostly) is in the language of
    the page it was submitted from (Prediction.language), as the rest of that member's pages are."""
    return translation.override(language or settings.LANGUAGE_CODE)


def prediction_transition(
    prediction_id: int,
    old: str | tuple[str, ...],
    new: str,
    *,
    entered_via: str | None = None,
    where: Q | None = None,
    **fields: Any,
) -> bool:
    """Move a prediction from `old` to `new` if it is still in `old` (and matches `where`).

    Returns False when another actor changed it first; never moves a row along
    a transition that `TRANSITIONS` does not allow. `entered_via`: the prediction's `via`,
    when the caller has it, passed on with `prediction_changed` (receivers can skip work).
    """
    olds = (old,) if isinstance(old, str) else old
    allowed = [status for status in olds if can_transition(status, new)]
    if not allowed:
        raise ValueError(f"no transition from {olds} to {new}")
    finishing = new in TERMINAL or new == Status.UNKNOWN
    # A move, its settlement (at the end) and what the receivers of its signals record commit
    # together; no savepoint when called inside a transaction (a failure here fails the caller's too).
    with transaction.atomic(savepoint=False):
        rows = Prediction.objects.filter(pk=prediction_id, status__in=allowed)
        if where is not None:
            rows = rows.filter(where)
        # An end reads its row back in the same statement (locked until the transaction ends),
        # for its settlement.
        ended = update_returning(rows, status=new, **fields) if finishing else None
        updated = len(ended) if ended is not None else rows.update(status=new, **fields)
        if updated:
            logger.info("prediction=%s status=%s", prediction_id, new, extra={"prediction_id": prediction_id})
            if ended:
                _on_finished(ended[0], new)
            notifier.notify(prediction_id)
            signals.prediction_changed.send(
                sender=Prediction, prediction_id=prediction_id, status=new, logs_changed=False, via=entered_via
            )
    return bool(updated)


def _on_finished(ended: Prediction, status: str) -> None:
    """What follows a prediction's end, in the same transaction as its status change: its
    settlement, then `prediction_finished` for the apps that react (reviews approves
    automatically). A receiver that raises rolls the end back with it."""
    settled = settlement.prediction_settle(ended)
    signals.prediction_finished.send(sender=Prediction, prediction=settled, status=status)


def backoff(attempt: int, *, base: float = 2.0, cap: float = 60.0) -> float:
    return min(cap, base * (2 ** max(0, attempt - 1)))


def jittered(delay: float, retry_after: float | None = None) -> float:
    """A retry's wait with equal jitter: at random between half of `delay` and all of it, so
    predictions refused together do not come back together. Never sooner than DeerAPI's
    Retry-After; past it, spread over the same width."""
    floor = max(delay / 2, retry_after or 0.0)
    return random.uniform(floor, floor + delay / 2)


def prediction_fail(prediction_id: int, old: str | tuple[str, ...], message: str, **fields: Any) -> bool:
    logger.info("prediction=%s failed: %s", prediction_id, message, extra={"prediction_id": prediction_id})
    return prediction_transition(
        prediction_id,
        old,
        Status.FAILED,
        error=message,
        completed_at=timezone.now(),
        next_poll_at=None,
        **fields,
    )


# --- Create -------------------------------------------------------------------


def prediction_input_clean(spec: ModelSpec, data: dict[str, Any]) -> dict[str, Any]:
    """The input DeerAPI will get: only keys the model accepts, typed, in range.

    Blank optional fields are left out so DeerAPI applies its own defaults.
    """
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    unknown = set(data) - spec.input_names
    for name in sorted(unknown):
        errors[name] = _("This model has no input named “%(name)s”.") % {"name": name}
    for field in spec.fields:
        value = data.get(field.name)
        if value is None or value == "" or value == []:
            if field.required:
                errors[field.name] = _("This field is required.")
            continue
        try:
            cleaned[field.name] = _clean_value(field, value)
        except ValueError as exc:
            errors[field.name] = str(exc)
    prompt = cleaned.get("prompt")
    if isinstance(prompt, str) and len(prompt) > settings.PROMPT_MAX_LENGTH:
        errors["prompt"] = _("The prompt is too long: %(n)d characters, at most %(max)d.") % {
            "n": len(prompt),
            "max": settings.PROMPT_MAX_LENGTH,
        }
    if errors:
        raise PredictionInputError(errors)
    return cleaned


def _clean_value(field: InputField, value: Any) -> Any:
    kind = field.kind
    if kind in ("string", "text"):
        if not isinstance(value, str):
            raise ValueError(_("Enter text."))
        return value.strip()
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise ValueError(_("Choose yes or no."))
    if kind in ("integer", "number"):
        if isinstance(value, bool):
            raise ValueError(_("Enter a number."))
        try:
            number = int(value) if kind == "integer" else float(value)
        except (TypeError, ValueError):
            raise ValueError(_("Enter a whole number.") if kind == "integer" else _("Enter a number.")) from None
        if kind == "integer" and isinstance(value, float) and not value.is_integer():
            raise ValueError(_("Enter a whole number."))
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(_("Enter a number."))
        if field.minimum is not None and number < field.minimum:
            raise ValueError(_("Must be at least %(min)s.") % {"min": _fmt(field.minimum)})
        if field.maximum is not None and number > field.maximum:
            raise ValueError(_("Must be at most %(max)s.") % {"max": _fmt(field.maximum)})
        return number
    if kind == "enum":
        value = str(value)
        if value not in field.choices:
            raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(field.choices)})
        return value
    if kind == "uri":
        return _clean_uri(value)
    if kind == "uri_list":
        items = value if isinstance(value, list) else [value]
        if field.max_items is not None and len(items) > field.max_items:
            raise ValueError(_("At most %(n)d images.") % {"n": field.max_items})
        return [_clean_uri(item) for item in items]
    raise ValueError(f"unsupported field kind {kind}")


def _clean_uri(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://", "data:image/")):
        raise ValueError(_("Enter an http(s) URL of an image."))
    return value


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def prediction_create(
    *,
    owner: User,
    model_id: str,
    input: dict[str, Any],
    prompt: Prompt | None = None,
    source: Prediction | None = None,
    compare_group: uuid.UUID | None = None,
    via_token: str = "",
    spec: ModelSpec | None = None,
) -> Prediction:
    """Save a prediction as `queued` and have a worker send it.

    The web request never talks to DeerAPI: it validates, reserves the cost
    against the member's quota, saves and enqueues, all in one transaction.
    `prompt` reuses a prompt of the member's (its text must match the input's).
    `via_token`: the name of the API token it came through (empty: the web pages).
    `spec`: the model as the caller already read it in this request (`models_enabled`), which
    saves reading it again; without it, the model is read here.
    """
    if spec is None or spec.id != model_id:
        spec = catalog_selectors.model_get(model_id)
    if spec is None:
        raise PredictionInputError({"model": _("Unknown model “%(id)s”.") % {"id": model_id}})
    cleaned = prediction_input_clean(spec, input)
    now = timezone.now()
    with transaction.atomic():
        if prompt is None or prompt.owner_id != owner.pk or prompt.text != cleaned["prompt"]:
            prompt = Prompt.objects.create(owner=owner, text=cleaned["prompt"], created_at=now)
        prediction = Prediction(
            owner=owner,
            prompt=prompt,
            model_id=spec.id,
            input=cleaned,
            status=Status.QUEUED,
            created_at=now,
            next_poll_at=now,
            source=source,
            compare_group=compare_group,
            via=Via.API if via_token else Via.WEB,
            via_token=via_token,
            language=translation.get_language() or "",
        )
        billing.quota_reserve(prediction, spec)
        prediction.save()
        billing.reservation_record(prediction)
        if create_messages():
            enqueue("submit", prediction.pk)
    logger.info(
        "prediction=%s created model=%s owner=%s",
        prediction.pk,
        spec.id,
        owner.pk,
        extra={"prediction_id": prediction.pk},
    )
    return prediction


# --- Run again and Compare ---------------------------------

COMPARE_MIN_MODELS = 2
COMPARE_MAX_MODELS = 4


def prediction_rerun(*, owner: User, source: Prediction) -> Prediction:
    """Run `source` again for `owner` with the same inputs.

    A seed is in the input only when the member fixed one (blank fields are never
    sent), so a fixed seed is kept and otherwise DeerAPI draws a new one. Inputs
    the model no longer takes (an admin changed its schema) are left out. Uploaded
    images are copied into new uploads of `owner`'s (the source's public URLs stop
    answering once it ends).
    """
    spec = catalog_selectors.model_get(source.model_id)
    if spec is None:
        raise PredictionInputError({"model": _("The model “%(id)s” is no longer available.") % {"id": source.model_id}})
    data = {name: value for name, value in source.input.items() if name in spec.input_names}
    copies: list[InputImage] = []
    try:
        with transaction.atomic():
            data, copies = uploads.input_values_store(owner, data, source=source)
            prediction = prediction_create(
                owner=owner, model_id=spec.id, input=data, prompt=source.prompt, source=source
            )
            uploads.input_images_link(prediction, copies)
    except uploads.InputImageUnavailable as exc:
        raise PredictionInputError(exc.errors) from exc
    except BaseException:
        uploads.input_images_discard(copies)
        raise
    return prediction


def predictions_compare(
    *, owner: User, prompt_text: str, model_ids: list[str], prompt: Prompt | None = None
) -> uuid.UUID:
    """Run one prompt on 2–4 models, each with its default options; returns their shared group.

    One transaction: every prediction is created (and reserved against the
    quota) or none is. They share one Prompt row.
    """
    chosen = list(dict.fromkeys(model_ids))
    if not COMPARE_MIN_MODELS <= len(chosen) <= COMPARE_MAX_MODELS:
        raise PredictionInputError(
            {
                "models": _("Choose between %(min)d and %(max)d models.")
                % {"min": COMPARE_MIN_MODELS, "max": COMPARE_MAX_MODELS}
            }
        )
    group = uuid.uuid4()
    with transaction.atomic():
        for model_id in chosen:
            spec = catalog_selectors.model_get(model_id)
            if spec is None:
                raise PredictionInputError({"models": _("Unknown model “%(id)s”.") % {"id": model_id}})
            # Defaults are DeerAPI's own, so only required inputs that have one are sent.
            data = {
                item.name: item.default
                for item in spec.fields
                if item.required and item.default is not None and item.name != "prompt"
            }
            data["prompt"] = prompt_text
            try:
                prediction = prediction_create(
                    owner=owner, model_id=spec.id, input=data, prompt=prompt, compare_group=group
                )
            except PredictionInputError as exc:
                # The prompt's message stays on the prompt; any other is the model's.
                errors = {"prompt": exc.errors["prompt"]} if "prompt" in exc.errors else {}
                others = [message for name, message in exc.errors.items() if name != "prompt"]
                if others:
                    errors["models"] = f"{spec.name}: {' '.join(others)}"
                raise PredictionInputError(errors) from exc
            prompt = prediction.prompt
    return group


# --- Cancel, re-poll, resolve ---------------------------------------------------------------------


def prediction_resolve_unknown(prediction: Prediction, *, charge: bool, by: User) -> bool:
    """An admin's answer for a prediction whose submission outcome is unknown,
    after checking DeerAPI's dashboard. Returns False if it is no longer unknown.

    Both answers end it as `failed`, with a note in its error: DeerWeb has no
    images for it either way, and `succeeded` means "images stored" to the rest
    of DeerWeb (history, review queue, gallery). What differs is the money:
    - charge: DeerAPI ran and billed it, so the reservation becomes the final cost;
    - refund: DeerAPI never ran it, so the reservation is given back.
    """
    billing.admin_required(by)
    with transaction.atomic():
        locked = Prediction.objects.select_for_update().filter(pk=prediction.pk, status=Status.UNKNOWN).first()
        if locked is None:
            return False
        net, _finals = billing.prediction_charged(locked.pk)
        final = locked.estimated_cost if charge else billing.ZERO
        if final != net:
            billing.prediction_charge(locked, LedgerKind.SETTLE if charge else LedgerKind.REFUND, final - net, by=by)
        if charge:
            note = _("Resolved by %(admin)s: DeerAPI ran and charged for it; its estimated cost of %(cost)s stays.")
        else:
            note = _("Resolved by %(admin)s: DeerAPI never ran it; %(cost)s was refunded.")
        note %= {"admin": by.get_username(), "cost": billing.format_usd(locked.estimated_cost)}
        moved = prediction_transition(
            locked.pk,
            Status.UNKNOWN,
            Status.FAILED,
            error=f"{locked.error}\n\n{note}".strip(),
            completed_at=timezone.now(),
            next_poll_at=None,
            actual_cost=final,
            image_count=None if charge else 0,
        )
        assert moved, "the row is locked, so it is still unknown"
        audit_record(
            actor=by,
            action="prediction.resolve_unknown",
            target=locked,
            summary=f"#{locked.pk}: {'charged' if charge else 'refunded'} {billing.format_usd(locked.estimated_cost)}",
            before={"status": Status.UNKNOWN, "charged": net},
            after={"status": Status.FAILED, "charged": final, "resolution": "charge" if charge else "refund"},
        )
    return True


def prediction_cancel(prediction: Prediction) -> bool:
    """Ask for a prediction to stop. A queued one stops at once; one at DeerAPI is canceled
    there by a worker; one whose create is on its way is canceled by the pipeline as soon as
    DeerAPI answers (pipeline.prediction_submit reads `cancel_requested_at`). False when it
    can no longer be canceled."""
    now = timezone.now()
    if prediction_transition(prediction.pk, Status.QUEUED, Status.CANCELED, completed_at=now, next_poll_at=None):
        return True
    if not Prediction.objects.filter(pk=prediction.pk, status__in=CANCELABLE).update(cancel_requested_at=now):
        return False
    # Read after the flag is set: if the create has been answered since, the pipeline may
    # have read the flag before it was set, so the cancel is sent from here.
    if Prediction.objects.filter(pk=prediction.pk, status__in=REMOTE).exists():
        enqueue("cancel", prediction.pk)
    return True


def prediction_repoll(prediction: Prediction) -> bool:
    """Ask DeerAPI about a running prediction now (an admin's re-poll); False unless it is at DeerAPI."""
    with transaction.atomic():
        due = Prediction.objects.filter(pk=prediction.pk, status__in=REMOTE).update(next_poll_at=timezone.now())
        if due:
            enqueue("poll", prediction.pk)
    return bool(due)


def past_lease_check(now: datetime) -> dict[str, Any]:
    """/healthz: no prediction may sit in a working state past what the sweep allows."""
    overdue_before = now - timedelta(seconds=health.overdue_after())
    overdue = Prediction.objects.filter(status__in=ACTIVE, next_poll_at__lt=overdue_before).aggregate(
        count=Count("pk"), oldest=Min("next_poll_at")
    )
    oldest = overdue["oldest"]
    return {
        "ok": overdue["count"] == 0,
        "past_lease": overdue["count"],
        "oldest_due_seconds": health.age_seconds(oldest, now),
        "max_late_seconds": health.overdue_after(),
    }


def working_predictions() -> QuerySet:
    """The ids of the predictions DeerWeb is still working on (for /healthz's tasks check)."""
    return Prediction.objects.filter(status__in=ACTIVE).values("pk")


def in_flight_count(user_id: int) -> int:
    """A member's predictions DeerWeb is still working on (billing's in-flight limit)."""
    return Prediction.objects.filter(owner_id=user_id, status__in=ACTIVE).count()
