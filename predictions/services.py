"""Every write DeerWeb makes to predictions: create, submit, refresh, store, sweep.

Rules kept here:
- a status only changes through `prediction_transition`, a conditional UPDATE that also
  checks `TRANSITIONS`, so two workers can never both act on one row;
- the create POST is sent at most once per prediction; when its outcome is
  unknown the prediction becomes `unknown` instead of being sent again;
- tasks are enqueued with `transaction.on_commit`, after the row they name exists.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import random
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from celery import current_app
from defusedxml import DefusedXmlException, ElementTree
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

from audit.services import audit_record
from billing import services as billing
from billing.models import LedgerKind
from catalog import selectors as catalog_selectors
from catalog import specs as catalog
from deerapi import progress
from deerapi.client import (
    AuthError,
    BalanceExhausted,
    DeerAPIClient,
    PermanentError,
    RemotePrediction,
    TransientError,
    UncertainSubmission,
    get_client,
)
from ops import health
from predictions import settlement, signals, uploads
from predictions.models import (
    ACTIVE,
    REMOTE,
    TERMINAL,
    InputImage,
    Prediction,
    PredictionOutput,
    Prompt,
    Status,
    User,
    can_transition,
)

logger = logging.getLogger(__name__)

# How long a claim holds a row before the sweep may assume the worker died.
# Longer than the matching task's hard time limit (see tasks.py).
SUBMIT_LEASE = timedelta(seconds=settings.DEERAPI_CALL_LIMIT + settings.LEASE_MARGIN)
POLL_LEASE = timedelta(seconds=settings.DEERAPI_CALL_LIMIT + settings.LEASE_MARGIN)
STORE_LEASE = timedelta(seconds=settings.STORE_TIME_LIMIT + settings.LEASE_MARGIN)
# Tolerance for a countdown message that arrives a moment early.
EARLY = timedelta(milliseconds=500)
# Polls timed by a progress bar (see poll_delay): this long after the predicted end, at most
# this long apart, and this often once every step is done.
PROGRESS_MARGIN = 0.25
PROGRESS_MAX_WAIT = 60.0
FINISHING_POLL = 0.5
THUMBNAIL_SIZE = (384, 384)
RASTER_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
MAX_PIXELS = 64_000_000

UNKNOWN_EXPLANATION = gettext_lazy(
    "DeerWeb sent this prediction to DeerAPI but never received an answer, so it cannot "
    "tell whether DeerAPI started it. It was not sent again, to avoid paying twice. "
    "An admin can check DeerAPI's dashboard and resolve it."
)


class PredictionInputError(ValueError):
    """The input does not fit the model's schema; nothing was saved or sent."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# --- Enqueueing ---------------------------------------------------------------


# Creates wait behind polls and stores (0, the highest, on Redis): work on predictions already at
# DeerAPI is never queued behind a burst of new submissions, and a busy worker sends new ones
# only as it keeps up with the running ones. Brokers without priorities ignore it.
PRIORITY = {"submit": 6}


def _enqueue(task: str, prediction_id: int, countdown: float = 0.0, *, lease: datetime | None = None) -> None:
    """Send a task once the current transaction commits (at once outside one).

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
            priority=PRIORITY.get(task, 0),
        )

    transaction.on_commit(send)


def _due(now: datetime, lease: str | None) -> Q:
    """Rows a task may claim: due now, or still holding the lease the sweep sent it with."""
    due = Q(next_poll_at__lte=now + EARLY)
    if lease:
        due |= Q(next_poll_at=datetime.fromisoformat(lease))
    return due


def _in_language(language: str):
    """What a worker writes about a prediction (its error, mostly) is in the language of
    the page it was submitted from (Prediction.language), as the rest of that member's pages are."""
    return translation.override(language or settings.LANGUAGE_CODE)


def prediction_transition(prediction_id: int, old: str | tuple[str, ...], new: str, **fields: Any) -> bool:
    """Move a prediction from `old` to `new` if it is still in `old`.

    Returns False when another actor changed it first; never moves a row along
    a transition that `TRANSITIONS` does not allow.
    """
    olds = (old,) if isinstance(old, str) else old
    allowed = [status for status in olds if can_transition(status, new)]
    if not allowed:
        raise ValueError(f"no transition from {olds} to {new}")
    finishing = new in TERMINAL or new == Status.UNKNOWN
    # A prediction's end and its settlement commit together; no savepoint when called inside
    # a transaction (a failure here fails the caller's too). Other moves are one UPDATE.
    with transaction.atomic(savepoint=False) if finishing else nullcontext():
        updated = Prediction.objects.filter(pk=prediction_id, status__in=allowed).update(status=new, **fields)
        if updated:
            logger.info("prediction=%s status=%s", prediction_id, new, extra={"prediction_id": prediction_id})
            if finishing:
                _on_finished(prediction_id, new)
    return bool(updated)


def _on_finished(prediction_id: int, status: str) -> None:
    """What follows a prediction's end, in the same transaction as its status change: its
    settlement, then `prediction_finished` for the apps that react (reviews approves
    automatically). A receiver that raises rolls the end back with it."""
    settled = settlement.prediction_settle(prediction_id)
    signals.prediction_finished.send(sender=Prediction, prediction=settled, status=status)


# --- Create -------------------------------------------------------------------


def prediction_input_clean(spec: catalog.ModelSpec, data: dict[str, Any]) -> dict[str, Any]:
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


def _clean_value(field: catalog.InputField, value: Any) -> Any:
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
) -> Prediction:
    """Save a prediction as `queued` and have a worker send it.

    The web request never talks to DeerAPI: it validates, reserves the cost
    against the member's quota, saves and enqueues, all in one transaction.
    `prompt` reuses a prompt of the member's (its text must match the input's).
    """
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
            language=translation.get_language() or "",
        )
        billing.quota_reserve(prediction, spec)
        prediction.save()
        billing.reservation_record(prediction)
        _enqueue("submit", prediction.pk)
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


# --- Submit -------------------------------------------------------------------


def _backoff(attempt: int, *, base: float = 2.0, cap: float = 60.0) -> float:
    return min(cap, base * (2 ** max(0, attempt - 1)))


def _jittered(delay: float, retry_after: float | None = None) -> float:
    """A retry's wait with equal jitter: at random between half of `delay` and all of it, so
    predictions refused together do not come back together. Never sooner than DeerAPI's
    Retry-After; past it, spread over the same width."""
    floor = max(delay / 2, retry_after or 0.0)
    return random.uniform(floor, floor + delay / 2)


def prediction_submit(prediction_id: int, *, lease: str | None = None, client: DeerAPIClient | None = None) -> None:
    """Send the create for a queued prediction, exactly once."""
    now = timezone.now()
    claimed = Prediction.objects.filter(_due(now, lease), pk=prediction_id, status=Status.QUEUED).update(
        status=Status.SUBMITTING,
        attempts=F("attempts") + 1,
        next_poll_at=now + SUBMIT_LEASE,
    )
    if not claimed:
        return
    prediction = Prediction.objects.get(pk=prediction_id)
    with _in_language(prediction.language):
        _submit_claimed(prediction, client or get_client())


def _submit_claimed(prediction: Prediction, client: DeerAPIClient) -> None:
    prediction_id = prediction.pk
    try:
        remote = client.create_prediction(prediction.model_id, prediction.input)
    except UncertainSubmission as exc:
        logger.warning("prediction=%s create outcome unknown: %s", prediction_id, exc.message)
        prediction_transition(
            prediction_id,
            Status.SUBMITTING,
            Status.UNKNOWN,
            error=f"{UNKNOWN_EXPLANATION} ({exc.message})",
            next_poll_at=None,
        )
        return
    except TransientError as exc:
        if prediction.attempts >= settings.SUBMIT_MAX_ATTEMPTS:
            _fail(
                prediction_id,
                Status.SUBMITTING,
                _("DeerAPI stayed unavailable after %(n)d attempts: %(msg)s")
                % {"n": prediction.attempts, "msg": exc.message},
            )
            return
        delay = _jittered(_backoff(prediction.attempts), exc.retry_after)
        logger.info("prediction=%s create refused (%s); retry in %.1fs", prediction_id, exc.message, delay)
        with transaction.atomic():
            if prediction_transition(
                prediction_id,
                Status.SUBMITTING,
                Status.QUEUED,
                next_poll_at=timezone.now() + timedelta(seconds=delay),
                error=_("DeerAPI is busy (%(msg)s); trying again.") % {"msg": exc.message},
            ):
                _enqueue("submit", prediction_id, countdown=delay)
        return
    except (BalanceExhausted, AuthError) as exc:
        # DeerAPI refused the team, not this prediction: it fails (and its
        # reservation is refunded) and admins see a banner until a create succeeds.
        empty = isinstance(exc, BalanceExhausted)
        message = (
            _(
                "The team's DeerAPI balance is empty, so DeerAPI refused this prediction and it "
                "costs nothing. An admin needs to top up the DeerAPI account. (DeerAPI said: %(msg)s)"
            )
            % {"msg": exc.message}
            if empty
            else exc.message
        )
        with transaction.atomic():
            if _fail(prediction_id, Status.SUBMITTING, message):
                (billing.deerapi_balance_empty if empty else billing.deerapi_key_rejected)()
        return
    except PermanentError as exc:
        message = exc.message
        extra: dict[str, Any] = {}
        if exc.field_errors:
            message += "\n" + "\n".join(f"{k}: {v}" for k, v in exc.field_errors.items())
            # A create DeerAPI refused never ran, so it has no metrics of its own: its
            # per-field messages (a 422's invalid_fields) are kept there, structured,
            # for the detail page and "Edit and run" (see views.prediction_field_errors).
            extra["metrics"] = {"invalid_fields": exc.field_errors}
        _fail(prediction_id, Status.SUBMITTING, message, **extra)
        return
    billing.deerapi_create_accepted()
    _apply_remote(prediction, Status.SUBMITTING, remote, submitted=True)


def _fail(prediction_id: int, old: str | tuple[str, ...], message: str, **fields: Any) -> bool:
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


# --- Poll -----------------------------------------------------------------------


_SEED_LOG = re.compile(r"^Using seed: (\d{1,18})\s*$", re.MULTILINE)


def _seed_from_logs(logs: str) -> int | None:
    """The seed a model reports in its logs ("Using seed: 1234"), when it does."""
    match = _SEED_LOG.search(logs or "")
    return int(match.group(1)) if match else None


def poll_interval(prediction: Prediction, now) -> float:
    """Fast at first, backing off as a prediction runs longer."""
    age = (now - (prediction.submitted_at or prediction.created_at)).total_seconds()
    if age < 10:
        return 1.0
    if age < 60:
        return 2.0
    if age < 300:
        return 5.0
    return 10.0


# The fastest of a model's recent runs (DeerAPI's metrics.total_time), per process, for a while.
RUN_TIME_SAMPLE = 20
RUN_TIME_TTL = 30.0
RUN_TIME_TTL_NONE = 2.0  # a model with no run yet may have one soon
_fastest_runs: dict[str, tuple[float, float | None]] = {}


def fastest_recent_run(model_id: str) -> float | None:
    """Seconds the fastest of the model's last RUN_TIME_SAMPLE succeeded runs took at DeerAPI,
    from create to done; None without any. Read at most every RUN_TIME_TTL s per process."""
    clock = time.monotonic()
    cached = _fastest_runs.get(model_id)
    if cached is not None and clock - cached[0] < (RUN_TIME_TTL if cached[1] is not None else RUN_TIME_TTL_NONE):
        return cached[1]
    times = [
        value
        for value in Prediction.objects.filter(
            model_id=model_id, status=Status.SUCCEEDED, metrics__total_time__isnull=False
        )
        .order_by("-created_at")
        .values_list("metrics__total_time", flat=True)[:RUN_TIME_SAMPLE]
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 86400
    ]
    fastest = float(min(times)) if times else None
    _fastest_runs[model_id] = (clock, fastest)
    return fastest


def poll_delay(prediction: Prediction, remote: RemotePrediction, now) -> float:
    """Seconds until a running prediction is next polled.

    At the end its progress bar predicts (a little after, so the poll finds it done), when its
    logs have one: two or three polls whatever the run time. A model without a bar (seen at
    the first poll, `poll_interval` after the create) is next polled when the fastest of its
    recent runs would have ended, as none of them was quicker. Otherwise `poll_interval`.
    """
    backoff = poll_interval(prediction, now)
    remaining = progress.progress_remaining(remote.logs, remote.started_at, now)
    if remaining is None:
        fastest = fastest_recent_run(prediction.model_id) if prediction.model_id and prediction.poll_count else None
        if fastest is None:
            return backoff
        age = (now - (prediction.submitted_at or prediction.created_at)).total_seconds()
        return min(max(backoff, fastest - age + PROGRESS_MARGIN), PROGRESS_MAX_WAIT)
    if remaining <= 0:  # every step done: the model is saving its images
        return min(backoff, FINISHING_POLL)
    return min(remaining + PROGRESS_MARGIN, PROGRESS_MAX_WAIT)


def _apply_remote(
    prediction: Prediction,
    old: str,
    remote: RemotePrediction,
    *,
    submitted: bool = False,
    store_now: bool = False,
) -> str | None:
    """Record what DeerAPI says about a prediction and schedule what comes next.

    Returns the status it moved to, or None when another actor moved it first. A prediction
    that moved to storing gets a store task, unless `store_now` (the caller stores it itself).
    """
    prediction_id = prediction.pk
    now = timezone.now()
    fields: dict[str, Any] = {"logs": remote.logs}
    if submitted:
        fields.update(deerapi_id=remote.id, submitted_at=now, error="")
    if remote.metrics:
        fields["metrics"] = remote.metrics
    if remote.started_at:
        fields["started_at"] = remote.started_at
    if (seed := _seed_from_logs(remote.logs)) is not None:
        fields["seed"] = seed
    # Each change is its own transaction (see prediction_transition); a task follows it once committed.
    status = remote.status
    if status == "succeeded":
        if not remote.output:
            message = (
                _("DeerAPI's output files expired before DeerWeb could store them.")
                if remote.data_removed
                else _("DeerAPI reported success but returned no output.")
            )
            return _moved(
                prediction_transition(
                    prediction_id, old, Status.FAILED, error=message, completed_at=now, next_poll_at=None, **fields
                ),
                Status.FAILED,
            )
        if store_now:  # claimed for the caller's store, as prediction_store_outputs claims it
            fields.update(attempts=1, next_poll_at=now + STORE_LEASE)
        else:
            fields.update(attempts=0, next_poll_at=now)
        if not prediction_transition(prediction_id, old, Status.STORING, remote_output=remote.output, **fields):
            return None
        if store_now:
            prediction.status, prediction.remote_output, prediction.attempts = (Status.STORING, remote.output, 1)
        else:
            _enqueue("store", prediction_id)
        return Status.STORING
    if status == "failed":
        return _moved(
            prediction_transition(
                prediction_id,
                old,
                Status.FAILED,
                error=remote.error or _("DeerAPI reported a failure without a message."),
                completed_at=now,
                next_poll_at=None,
                **fields,
            ),
            Status.FAILED,
        )
    if status in ("canceled", "aborted"):
        message = remote.error or (
            _("DeerAPI stopped the prediction before it started.") if status == "aborted" else ""
        )
        return _moved(
            prediction_transition(
                prediction_id, old, Status.CANCELED, error=message, completed_at=now, next_poll_at=None, **fields
            ),
            Status.CANCELED,
        )
    # starting, processing, or a status we do not know yet: keep polling.
    new = Status.PROCESSING if status == "processing" else (Status.STARTING if old == Status.SUBMITTING else old)
    if new == Status.PROCESSING and "started_at" not in fields:
        fields["started_at"] = now
    if submitted:
        prediction.submitted_at = now
    delay = poll_delay(prediction, remote, now)
    fields["next_poll_at"] = now + timedelta(seconds=delay)
    if new == old:
        moved = bool(Prediction.objects.filter(pk=prediction_id, status=old).update(**fields))
    else:
        moved = prediction_transition(prediction_id, old, new, **fields)
    if moved:
        _enqueue("poll", prediction_id, countdown=delay)
    return _moved(moved, new)


def _moved(moved: bool, status: str) -> str | None:
    return status if moved else None


def prediction_refresh(prediction_id: int, *, lease: str | None = None, client: DeerAPIClient | None = None) -> None:
    """Poll DeerAPI once for a running prediction; reschedules itself."""
    now = timezone.now()
    claimed = Prediction.objects.filter(_due(now, lease), pk=prediction_id, status__in=REMOTE).update(
        next_poll_at=now + POLL_LEASE, poll_count=F("poll_count") + 1
    )
    if not claimed:
        return
    prediction = Prediction.objects.get(pk=prediction_id)
    with _in_language(prediction.language):
        _refresh_claimed(prediction, client or get_client(), now)


def _refresh_claimed(prediction: Prediction, client: DeerAPIClient, now) -> None:
    prediction_id = prediction.pk
    try:
        remote = client.get_prediction(prediction.deerapi_id)
    except (TransientError, AuthError) as exc:
        # A rejected key may be fixed by an admin; keep trying (30 to 60 s apart) until the timeout.
        delay = _jittered(60.0 if isinstance(exc, AuthError) else poll_interval(prediction, now) * 2, exc.retry_after)
        logger.info("prediction=%s poll failed (%s); again in %.1fs", prediction_id, exc.message, delay)
        with transaction.atomic():
            if Prediction.objects.filter(pk=prediction_id, status=prediction.status).update(
                next_poll_at=timezone.now() + timedelta(seconds=delay)
            ):
                _enqueue("poll", prediction_id, countdown=delay)
        return
    except PermanentError as exc:
        _fail(
            prediction_id,
            prediction.status,
            _("DeerAPI could not report on this prediction: %(msg)s") % {"msg": exc.message},
        )
        return
    health.heartbeat_record(health.POLL, every=health.POLL_HEARTBEAT_EVERY)  # for /healthz
    if _apply_remote(prediction, prediction.status, remote, store_now=True) == Status.STORING:
        # Stored by this task rather than a new one: no second message, claim and wait.
        _store_claimed(prediction, stored=set())


# --- Store ----------------------------------------------------------------------


class DownloadError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class StoredFile:
    index: int
    source_url: str
    data: bytes
    content_type: str
    width: int | None
    height: int | None
    thumbnail: bytes | None


def _download(url: str) -> tuple[bytes, str]:
    """Fetch one provider file within the size limit. No DeerAPI key is sent."""
    limit = settings.OUTPUT_MAX_BYTES
    try:
        with requests.get(
            url,
            stream=True,
            timeout=(settings.DEERAPI_CONNECT_TIMEOUT, settings.DEERAPI_READ_TIMEOUT),
            headers={"User-Agent": "DeerWeb/0.1"},
        ) as response:
            if response.status_code in (403, 404, 410):
                raise DownloadError(
                    _("DeerAPI's output files expired before DeerWeb could store them."), permanent=True
                )
            if response.status_code >= 400:
                raise DownloadError(f"HTTP {response.status_code}", permanent=response.status_code < 500)
            declared = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if declared and not declared.startswith("image/") and declared != "application/octet-stream":
                raise DownloadError(
                    _("The output is not an image (it was sent as %(type)s).") % {"type": declared},
                    permanent=True,
                )
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                raise DownloadError(
                    _("The output file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}, permanent=True
                )
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_content(64 * 1024):
                total += len(chunk)
                if total > limit:
                    raise DownloadError(
                        _("The output file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}, permanent=True
                    )
                chunks.append(chunk)
            return b"".join(chunks), declared
    except requests.RequestException as exc:
        raise DownloadError(f"download failed: {exc.__class__.__name__}", permanent=False) from exc


def _inspect(index: int, url: str, data: bytes, declared: str) -> StoredFile:
    """Decide the content type from the bytes themselves, and make a thumbnail."""
    if declared == "image/svg+xml" or data.lstrip()[:5] in (b"<?xml", b"<svg ") or data.lstrip()[:4] == b"<svg":
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError:
            raise DownloadError(_("The output is not a valid image."), permanent=True) from None
        except DefusedXmlException:
            raise DownloadError(
                _(
                    "The output SVG declares XML entities, which DeerWeb refuses: they can make it "
                    "use up memory or read other files."
                ),
                permanent=True,
            ) from None
        if not root.tag.endswith("svg"):
            raise DownloadError(_("The output is not a valid image."), permanent=True)
        return StoredFile(index, url, data, "image/svg+xml", None, None, None)
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            if fmt not in RASTER_FORMATS:
                raise DownloadError(_("The output is not a supported image."), permanent=True)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise DownloadError(_("The output image is too large."), permanent=True)
            image.load()
            thumb = (
                image
                if image.mode in ("RGB", "RGBA")
                else image.convert("RGBA" if image.mode in ("LA", "P", "PA") else "RGB")
            )
            thumb.thumbnail(THUMBNAIL_SIZE)
            buffer = io.BytesIO()
            # method 0: the fastest encoder, a third of the default's time for a slightly larger file.
            thumb.save(buffer, "WEBP", quality=80, method=0)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise DownloadError(_("The output is not a valid image."), permanent=True) from None
    return StoredFile(index, url, data, RASTER_FORMATS[fmt], width, height, buffer.getvalue())


def _fetch(index: int, url: str) -> StoredFile:
    data, declared = _download(url)
    return _inspect(index, url, data, declared)


def prediction_store_outputs(prediction_id: int, *, lease: str | None = None) -> None:
    """Copy every output of a succeeded prediction into our storage, then finish it.

    Idempotent: outputs already stored are kept and not fetched again.
    """
    now = timezone.now()
    claimed = Prediction.objects.filter(_due(now, lease), pk=prediction_id, status=Status.STORING).update(
        next_poll_at=now + STORE_LEASE, attempts=F("attempts") + 1
    )
    if not claimed:
        return
    prediction = Prediction.objects.get(pk=prediction_id)
    with _in_language(prediction.language):
        _store_claimed(prediction, stored=set(prediction.outputs.values_list("index", flat=True)))


def _store_claimed(prediction: Prediction, *, stored: set[int]) -> None:
    """The store of a prediction claimed in `storing`, whose outputs `stored` are kept already."""
    prediction_id = prediction.pk
    todo = [(i, url) for i, url in enumerate(prediction.remote_output) if i not in stored]
    errors: list[DownloadError] = []
    if len(todo) == 1:  # most predictions: no thread to start
        try:
            _save_output(prediction, _fetch(*todo[0]))
        except DownloadError as exc:
            errors.append(exc)
    elif todo:
        with ThreadPoolExecutor(max_workers=min(4, len(todo))) as pool:
            futures = [pool.submit(_fetch, i, url) for i, url in todo]
            for future in futures:
                try:
                    _save_output(prediction, future.result())
                except DownloadError as exc:
                    errors.append(exc)
    if not errors:
        prediction_transition(
            prediction_id, Status.STORING, Status.SUCCEEDED, completed_at=timezone.now(), next_poll_at=None, error=""
        )
        return
    permanent = [e for e in errors if e.permanent]
    if permanent or prediction.attempts >= settings.DOWNLOAD_MAX_ATTEMPTS:
        _fail(prediction_id, Status.STORING, (permanent or errors)[0].message)
        return
    delay = _jittered(_backoff(prediction.attempts))
    logger.info("prediction=%s download failed (%s); retry in %.0fs", prediction_id, errors[0].message, delay)
    with transaction.atomic():
        if Prediction.objects.filter(pk=prediction_id, status=Status.STORING).update(
            next_poll_at=timezone.now() + timedelta(seconds=delay)
        ):
            _enqueue("store", prediction_id, countdown=delay)


def _save_output(prediction: Prediction, stored: StoredFile) -> None:
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif", "image/svg+xml": "svg"}[
        stored.content_type
    ]
    output = PredictionOutput(
        prediction=prediction,
        index=stored.index,
        source_url=stored.source_url[:2000],
        content_type=stored.content_type,
        size=len(stored.data),
        width=stored.width,
        height=stored.height,
        checksum=hashlib.sha256(stored.data).hexdigest(),
    )
    output.file.save(f"{prediction.pk}-{stored.index}.{ext}", ContentFile(stored.data), save=False)
    if stored.thumbnail:
        output.thumbnail.save(f"{prediction.pk}-{stored.index}.webp", ContentFile(stored.thumbnail), save=False)
    try:
        # Inside a caller's transaction, a savepoint keeps a duplicate from breaking it.
        with transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext():
            output.save()
    except IntegrityError:
        # Another worker stored this index first; keep theirs.
        output.file.delete(save=False)
        if output.thumbnail:
            output.thumbnail.delete(save=False)


# --- Cancel ---------------------------------------------------------------------


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
    """Ask for a prediction to stop. Queued ones stop at once; others via a worker."""
    now = timezone.now()
    if prediction_transition(prediction.pk, Status.QUEUED, Status.CANCELED, completed_at=now, next_poll_at=None):
        return True
    if prediction.status in REMOTE:
        _enqueue("cancel", prediction.pk)
        return True
    return False


def prediction_cancel_remote(prediction_id: int, *, client: DeerAPIClient | None = None) -> None:
    prediction = Prediction.objects.get(pk=prediction_id)
    if prediction.status not in REMOTE or not prediction.deerapi_id:
        return
    client = client or get_client()
    try:
        remote = client.cancel_prediction(prediction.deerapi_id)
    except (TransientError, PermanentError) as exc:
        logger.info("prediction=%s cancel failed: %s", prediction_id, exc.message)
        return
    _apply_remote(prediction, prediction.status, remote)


def prediction_repoll(prediction: Prediction) -> bool:
    """Ask DeerAPI about a running prediction now (an admin's re-poll); False unless it is at DeerAPI."""
    with transaction.atomic():
        due = Prediction.objects.filter(pk=prediction.pk, status__in=REMOTE).update(next_poll_at=timezone.now())
        if due:
            _enqueue("poll", prediction.pk)
    return bool(due)


# --- Sweep ----------------------------------------------------------------------

SWEEP_BATCH = 1000


def _late_rows_claim(status: str, late: datetime, lease_until: datetime) -> list[int]:
    """Move the lease of up to SWEEP_BATCH rows in `status` due before `late`; their ids.

    One `UPDATE … RETURNING`: a row the sweep re-sends is not due again until `lease_until`,
    so it gets at most one message per lease however far behind the workers are. Rows a
    worker is claiming at this moment are skipped (PostgreSQL), not waited for.
    """
    table = Prediction._meta.db_table
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (
        f"UPDATE {table} SET next_poll_at = %s WHERE id IN ("  # noqa: S608 - names from the model, values bound
        f"SELECT id FROM {table} WHERE status = %s AND next_poll_at < %s "
        f"ORDER BY next_poll_at LIMIT %s{skip_locked}) RETURNING id"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(lease_until), status, adapt(late), SWEEP_BATCH])
        return [pk for (pk,) in cursor.fetchall()]


def predictions_sweep() -> dict[str, int]:
    """Recover from lost messages and dead workers; time out stuck predictions.

    Run by beat every few seconds. Cheap: each step is one indexed query.
    """
    now = timezone.now()
    counts = {"submit": 0, "poll": 0, "store": 0, "unknown": 0, "timed_out": 0}
    # A due row is only re-enqueued once it is this late: before that the
    # countdown message already on its way will pick it up.
    late = now - timedelta(seconds=settings.SWEEP_GRACE)

    timeout_before = now - timedelta(seconds=settings.PREDICTION_TIMEOUT)
    stuck = list(
        Prediction.objects.filter(
            status__in=[Status.QUEUED, Status.STARTING, Status.PROCESSING, Status.STORING],
            created_at__lt=timeout_before,
        ).values_list("pk", "status", "language")[:SWEEP_BATCH]
    )
    for pk, status, language in stuck:
        with _in_language(language):
            message = _("Timed out: no result after %(min)d minutes.") % {"min": settings.PREDICTION_TIMEOUT // 60}
        if _fail(pk, status, message):
            counts["timed_out"] += 1

    # A claim whose lease ran out: the worker died while sending the create.
    for pk, language in Prediction.objects.filter(status=Status.SUBMITTING, next_poll_at__lt=now).values_list(
        "pk", "language"
    )[:SWEEP_BATCH]:
        with _in_language(language):
            reason = _("the worker stopped while sending it")
            message = f"{UNKNOWN_EXPLANATION} ({reason})"
        if prediction_transition(pk, Status.SUBMITTING, Status.UNKNOWN, next_poll_at=None, error=message):
            counts["unknown"] += 1

    for status, task, lease in (
        (Status.QUEUED, "submit", SUBMIT_LEASE),
        (Status.STARTING, "poll", POLL_LEASE),
        (Status.PROCESSING, "poll", POLL_LEASE),
        (Status.STORING, "store", STORE_LEASE),
    ):
        lease_until = now + lease
        with transaction.atomic():
            ids = _late_rows_claim(status, late, lease_until)
            for pk in ids:
                _enqueue(task, pk, lease=lease_until)
        counts[task] += len(ids)
    if any(counts.values()):
        logger.info("sweep %s", " ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


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
        "oldest_due_seconds": None if oldest is None else round(max(0.0, (now - oldest).total_seconds()), 1),
        "max_late_seconds": health.overdue_after(),
    }


def working_predictions() -> QuerySet:
    """The ids of the predictions DeerWeb is still working on (for /healthz's tasks check)."""
    return Prediction.objects.filter(status__in=ACTIVE).values("pk")


def in_flight_count(user_id: int) -> int:
    """A member's predictions DeerWeb is still working on (billing's in-flight limit)."""
    return Prediction.objects.filter(owner_id=user_id, status__in=ACTIVE).count()
