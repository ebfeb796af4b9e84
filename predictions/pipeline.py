"""The worker's side of a prediction at DeerAPI: submit it (the create, at most once), poll it
on a schedule read from its progress or the model's recent run times, cancel it there, and
the beat sweep that re-enqueues whatever a lost message left behind. Status changes go
through services.prediction_transition; a finished prediction's images go to
predictions.storing."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Min, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import deerapi_account
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
from ops import health, notifier
from predictions import hints, services, signals, storing
from predictions.models import (
    REMOTE,
    Prediction,
    Status,
)

logger = logging.getLogger(__name__)

# How long a claim holds a row before the sweep may assume the worker died.
# Longer than the matching task's hard time limit (see tasks.py).
SUBMIT_LEASE = timedelta(seconds=settings.DEERAPI_CALL_LIMIT + settings.LEASE_MARGIN)

POLL_LEASE = timedelta(seconds=settings.DEERAPI_CALL_LIMIT + settings.LEASE_MARGIN)

# Polls timed by a progress bar (see poll_delay): this long after the predicted end, at most
# this long apart, and this often once every step is done.
PROGRESS_MARGIN = 0.25

PROGRESS_MAX_WAIT = 60.0

FINISHING_POLL = 0.5

UNKNOWN_EXPLANATION = gettext_lazy(
    "DeerWeb sent this prediction to DeerAPI but never received an answer, so it cannot "
    "tell whether DeerAPI started it. It was not sent again, to avoid paying twice. "
    "An admin can check DeerAPI's dashboard and resolve it."
)


def prediction_submit(prediction_id: int, *, lease: str | None = None, client: DeerAPIClient | None = None) -> None:
    """Send the create for a queued prediction, exactly once."""
    prediction = _submit_claim(prediction_id, lease)
    if prediction is not None:
        prediction_submit_claimed(prediction, client=client)


def prediction_submit_claimed(prediction: Prediction, *, client: DeerAPIClient | None = None) -> None:
    """Send the create of a prediction claimed in submitting (a task's claim, or the pollers')."""
    notifier.notify(prediction.pk)  # queued -> submitting, not through prediction_transition
    if prediction.cancel_requested_at is not None:  # asked for during an earlier attempt
        _canceled_before_sending(prediction.pk)
        return
    with services.in_language(prediction.language):
        _submit_claimed(prediction, client or get_client())


def _submit_claim(prediction_id: int, lease: str | None) -> Prediction | None:
    """Claim a queued prediction for its create (as services.due allows), counting the
    attempt; the row as claimed, in one `UPDATE … RETURNING`, or None when it is not ours."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    table = Prediction._meta.db_table
    params: list[Any] = [Status.SUBMITTING, adapt(now + SUBMIT_LEASE), prediction_id, Status.QUEUED]
    params.append(adapt(now + services.EARLY))
    leased = ""
    if lease:
        leased = " OR next_poll_at = %s"
        params.append(adapt(datetime.fromisoformat(lease)))
    sql = (
        f"UPDATE {table} SET status = %s, attempts = attempts + 1, next_poll_at = %s "  # noqa: S608 - names from the model, values bound
        f"WHERE id = %s AND status = %s AND (next_poll_at <= %s{leased}) RETURNING *"
    )
    claimed = list(Prediction.objects.raw(sql, params))
    return claimed[0] if claimed else None


def _submit_claimed(prediction: Prediction, client: DeerAPIClient) -> None:
    prediction_id = prediction.pk
    try:
        remote = client.create_prediction(prediction.model_id, prediction.input, webhook=hints.hint_url(prediction_id))
    except UncertainSubmission as exc:
        logger.warning("prediction=%s create outcome unknown: %s", prediction_id, exc.message)
        services.prediction_transition(
            prediction_id,
            Status.SUBMITTING,
            Status.UNKNOWN,
            error=f"{UNKNOWN_EXPLANATION} ({exc.message})",
            next_poll_at=None,
        )
        return
    except TransientError as exc:
        if prediction.attempts >= settings.SUBMIT_MAX_ATTEMPTS:
            services.prediction_fail(
                prediction_id,
                Status.SUBMITTING,
                _("DeerAPI stayed unavailable after %(n)d attempts: %(msg)s")
                % {"n": prediction.attempts, "msg": exc.message},
            )
            return
        if _cancel_requested(prediction_id):
            _canceled_before_sending(prediction_id)
            return
        delay = services.jittered(services.backoff(prediction.attempts), exc.retry_after)
        logger.info("prediction=%s create refused (%s); retry in %.1fs", prediction_id, exc.message, delay)
        with transaction.atomic():
            if (
                services.prediction_transition(
                    prediction_id,
                    Status.SUBMITTING,
                    Status.QUEUED,
                    next_poll_at=timezone.now() + timedelta(seconds=delay),
                    error=_("DeerAPI is busy (%(msg)s); trying again.") % {"msg": exc.message},
                )
                and services.create_messages()
            ):
                services.enqueue("submit", prediction_id, countdown=delay)
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
            if services.prediction_fail(prediction_id, Status.SUBMITTING, message):
                (deerapi_account.deerapi_balance_empty if empty else deerapi_account.deerapi_key_rejected)()
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
        services.prediction_fail(prediction_id, Status.SUBMITTING, message, **extra)
        return
    deerapi_account.deerapi_create_accepted()
    # Moved on only if no cancel was asked for while the create was on its way (one statement);
    # otherwise moved on regardless, and the cancel sent. A cancel asked for after the move sees
    # the prediction at DeerAPI and sends it itself (services.prediction_cancel).
    moved = _apply_remote(prediction, Status.SUBMITTING, remote, submitted=True, unless_cancel_requested=True)
    if moved is None and _cancel_requested(prediction_id):
        moved = _apply_remote(prediction, Status.SUBMITTING, remote, submitted=True)
        if moved in REMOTE:
            prediction_cancel_remote(prediction_id, client=client)


def _cancel_requested(prediction_id: int) -> bool:
    return Prediction.objects.filter(pk=prediction_id, cancel_requested_at__isnull=False).exists()


def _canceled_before_sending(prediction_id: int) -> None:
    """A cancel asked for while DeerAPI had refused the create for now: it is not sent again."""
    services.prediction_transition(
        prediction_id, Status.SUBMITTING, Status.CANCELED, completed_at=timezone.now(), next_poll_at=None
    )


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


# A model's recent run times (DeerAPI's metrics.total_time, create to done), per process, for a while.
RUN_TIME_SAMPLE = 20


RUN_TIME_TTL = 30.0


RUN_TIME_TTL_NONE = 0.5  # a model with no run yet may have one soon


@dataclass(frozen=True)
class RunTimes:
    """The fastest and the slowest of a model's last RUN_TIME_SAMPLE succeeded runs, in seconds."""

    fastest: float
    slowest: float


_recent_runs: dict[tuple[str, int | None], tuple[float, RunTimes | None]] = {}


def recent_run_times(model_id: str, num_outputs: int | None = None) -> RunTimes | None:
    """How long the model's last RUN_TIME_SAMPLE succeeded runs took at DeerAPI, from create to
    done, with the same `num_outputs` when given (more images take longer); None without any.
    Read at most every RUN_TIME_TTL s per process."""
    key = (model_id, num_outputs)
    clock = time.monotonic()
    cached = _recent_runs.get(key)
    if cached is not None and clock - cached[0] < (RUN_TIME_TTL if cached[1] is not None else RUN_TIME_TTL_NONE):
        return cached[1]
    runs = Prediction.objects.filter(model_id=model_id, status=Status.SUCCEEDED, metrics__total_time__isnull=False)
    if num_outputs is not None:
        runs = runs.filter(input__num_outputs=num_outputs)
    times = [
        float(value)
        for value in runs.order_by("-created_at").values_list("metrics__total_time", flat=True)[:RUN_TIME_SAMPLE]
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 86400
    ]
    found = RunTimes(min(times), max(times)) if times else None
    _recent_runs[key] = (clock, found)
    if found is not None and cached is not None and cached[1] is None:  # its first runs, seen here
        _still_running_at.pop(key, None)
        polls_bring_forward(model_id, num_outputs, found.fastest)
    return found


# While a model (with so many outputs) has no run to learn from: the age of the oldest of its
# predictions this process found still running. A younger one is not polled again before it is
# that old (none of them was quicker so far), nor before it has run twice as long, so only the
# oldest probe DeerAPI every `poll_interval`; the first run to end brings the others' polls forward.
_still_running_at: dict[tuple[str, int | None], tuple[float, datetime]] = {}

# Predictions submitted within this many seconds of the oldest one found running probe with it.
PROBE_WINDOW = 0.25

# The oldest found running is forgotten when no poll found it (or an older one) running for this
# long: it ended without a run to learn from (failed, canceled), or polls of it are far apart.
STILL_RUNNING_FORGET = 6.0

# The polls that may be brought forward (`polls_bring_forward`, `prediction_hint`): those due
# within this long, not those claimed by a poll under way (their lease, POLL_LEASE from the
# claim, lies further ahead). The schedule that relies on DeerAPI's calls polls no later than this.
BRING_FORWARD_WITHIN = min(timedelta(seconds=30), POLL_LEASE / 2)


def _polls_waiting(now: datetime) -> Q:
    """Running predictions whose next poll is a scheduled one (not a claim) due within BRING_FORWARD_WITHIN."""
    return Q(status__in=(Status.STARTING, Status.PROCESSING), next_poll_at__lt=now + BRING_FORWARD_WITHIN)


def polls_bring_forward(model_id: str, num_outputs: int | None, fastest: float) -> int:
    """A model's first run times are known: its running predictions polled later than the end
    that run time predicts (on the schedule of a model with no runs) are polled then instead."""
    now = timezone.now()
    learned_end = ExpressionWrapper(
        F("submitted_at") + timedelta(seconds=fastest + PROGRESS_MARGIN), output_field=DateTimeField()
    )
    rows = Prediction.objects.filter(
        _polls_waiting(now), model_id=model_id, submitted_at__isnull=False, next_poll_at__gt=learned_end
    )
    if num_outputs is not None:
        rows = rows.filter(input__num_outputs=num_outputs)
    return rows.update(next_poll_at=Greatest(learned_end, Value(now, output_field=DateTimeField())))


def prediction_hint(prediction_id: int) -> bool:
    """DeerAPI called back for this prediction (predictions.hints): poll it now if it is running
    and waiting for a scheduled poll. True if the poll moved."""
    now = timezone.now()
    moved = Prediction.objects.filter(_polls_waiting(now), pk=prediction_id, next_poll_at__gt=now).update(
        next_poll_at=now
    )
    hints.hint_noted()
    return bool(moved)


def _num_outputs(prediction: Prediction) -> int | None:
    value = prediction.input.get("num_outputs") if isinstance(prediction.input, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def poll_delay(prediction: Prediction, remote: RemotePrediction, now) -> float:
    """Seconds until a running prediction is next polled.

    At the end its progress bar predicts (a little after, so the poll finds it done), when its
    logs have one: two or three polls whatever the run time. Otherwise, from the model's recent
    run times (with as many outputs): first when the fastest of them would have ended, as none
    was quicker, then a third of their spread apart (at least FINISHING_POLL, at most
    `poll_interval`) until the slowest would have ended, then `poll_interval`; while DeerAPI calls
    back when runs end (predictions.hints), first when the slowest would have ended. A model with no
    run yet: `poll_interval` for the oldest of its predictions in flight; a younger one waits until
    it is as old as the oldest found still running (`_still_running_at`) and at least as long as it
    has run, since the first run to end brings its poll forward (`polls_bring_forward`).
    """
    backoff = poll_interval(prediction, now)
    remaining = progress.progress_remaining(remote.logs, remote.started_at, now)
    if remaining is None:
        runs = recent_run_times(prediction.model_id, _num_outputs(prediction)) if prediction.model_id else None
        age = (now - (prediction.submitted_at or prediction.created_at)).total_seconds()
        if runs is None:
            key = (prediction.model_id, _num_outputs(prediction))
            seen_age, seen_at = _still_running_at.get(key, (0.0, now))
            since = (now - seen_at).total_seconds()
            oldest = seen_age + since if since < STILL_RUNNING_FORGET else 0.0  # as old as it is now
            if prediction.poll_count and age >= oldest:  # a poll found it running (not the create's answer)
                _still_running_at[key] = (age, now)
            if oldest > age + PROBE_WINDOW:  # the oldest probe DeerAPI; the first run's end brings this forward
                return min(max(oldest - age, age, backoff), PROGRESS_MAX_WAIT)
            return backoff
        if hints.hints_arriving():  # DeerAPI calls back at the end: poll when the slowest would have ended
            if age < runs.slowest:
                return min(runs.slowest - age + backoff, BRING_FORWARD_WITHIN.total_seconds())
            return backoff
        if age < runs.fastest:
            return min(runs.fastest - age + PROGRESS_MARGIN, PROGRESS_MAX_WAIT)
        if age < runs.slowest + backoff:
            return min(max((runs.slowest - runs.fastest) / 3, FINISHING_POLL), backoff)
        return backoff
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
    unless_cancel_requested: bool = False,
) -> str | None:
    """Record what DeerAPI says about a prediction and schedule what comes next.

    Returns the status it moved to, or None when another actor moved it first. A prediction
    that moved to storing gets a store task, unless `store_now` (the caller stores it itself).
    New logs are announced (`prediction_changed` with `logs_changed`) once saved: a worker
    that dies between the two loses that announcement only, and the next poll's logs make another.
    """
    logs_before = prediction.logs or ""
    moved = _record_remote(
        prediction,
        old,
        remote,
        submitted=submitted,
        store_now=store_now,
        unless_cancel_requested=unless_cancel_requested,
    )
    if moved is not None and (remote.logs or "") != logs_before:
        signals.prediction_changed.send(
            sender=Prediction, prediction_id=prediction.pk, status=moved, logs_changed=True, via=prediction.via
        )
    return moved


def _record_remote(
    prediction: Prediction,
    old: str,
    remote: RemotePrediction,
    *,
    submitted: bool,
    store_now: bool,
    unless_cancel_requested: bool = False,
) -> str | None:
    prediction_id = prediction.pk
    now = timezone.now()
    transition = functools.partial(services.prediction_transition, entered_via=prediction.via)
    fields: dict[str, Any] = {"logs": remote.logs}
    if submitted:
        fields.update(deerapi_id=remote.id, submitted_at=now, error="")
    if remote.metrics:
        fields["metrics"] = remote.metrics
    if remote.started_at:
        fields["started_at"] = remote.started_at
    if (seed := _seed_from_logs(remote.logs)) is not None:
        fields["seed"] = seed
    # Each change is its own transaction (see services.prediction_transition); a task follows it once committed.
    status = remote.status
    if status == "succeeded":
        if not remote.output:
            message = (
                _("DeerAPI's output files expired before DeerWeb could store them.")
                if remote.data_removed
                else _("DeerAPI reported success but returned no output.")
            )
            return _moved(
                transition(
                    prediction_id, old, Status.FAILED, error=message, completed_at=now, next_poll_at=None, **fields
                ),
                Status.FAILED,
            )
        if store_now:  # claimed for the caller's store, as prediction_store_outputs claims it
            fields.update(attempts=1, next_poll_at=now + storing.STORE_LEASE)
        else:
            fields.update(attempts=0, next_poll_at=now)
        if not transition(prediction_id, old, Status.STORING, remote_output=remote.output, **fields):
            return None
        if store_now:
            prediction.status, prediction.remote_output, prediction.attempts = (Status.STORING, remote.output, 1)
        else:
            services.enqueue("store", prediction_id)
        return Status.STORING
    if status == "failed":
        return _moved(
            transition(
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
            transition(
                prediction_id, old, Status.CANCELED, error=message, completed_at=now, next_poll_at=None, **fields
            ),
            Status.CANCELED,
        )
    # starting, processing, or a status we do not know yet: keep polling.
    new = Status.PROCESSING if status == "processing" else (Status.STARTING if old == Status.SUBMITTING else old)
    if new == Status.PROCESSING and "started_at" not in fields and prediction.started_at is None:
        fields["started_at"] = now  # when DeerWeb first saw it run, if DeerAPI does not say
    if submitted:
        prediction.submitted_at = now
    delay = poll_delay(prediction, remote, now)
    if new == old:
        # Still running: only what changed is written, and the live pages are woken only then.
        changed = {name: value for name, value in fields.items() if getattr(prediction, name) != value}
        changed["next_poll_at"] = now + timedelta(seconds=delay)
        moved = bool(Prediction.objects.filter(pk=prediction_id, status=old).update(**changed))
        if moved and len(changed) > 1:
            notifier.notify(prediction_id)  # its logs and metrics
    else:
        fields["next_poll_at"] = now + timedelta(seconds=delay)
        where = Q(cancel_requested_at__isnull=True) if unless_cancel_requested else None
        moved = transition(prediction_id, old, new, where=where, **fields)
    if moved and _poll_messages:
        services.enqueue("poll", prediction_id, countdown=delay)
    return _moved(moved, new)


def _moved(moved: bool, status: str) -> str | None:
    return status if moved else None


def prediction_refresh(prediction_id: int, *, lease: str | None = None, client: DeerAPIClient | None = None) -> None:
    """Poll DeerAPI once for a running prediction; reschedules itself."""
    now = timezone.now()
    claimed = Prediction.objects.filter(services.due(now, lease), pk=prediction_id, status__in=REMOTE).update(
        next_poll_at=now + POLL_LEASE, poll_count=F("poll_count") + 1
    )
    if not claimed:
        return
    prediction = Prediction.objects.get(pk=prediction_id)
    with services.in_language(prediction.language):
        _refresh_claimed(prediction, client or get_client(), now)


# Whether a scheduled poll is sent as a Celery message with a countdown (the default), or left
# to the row's next_poll_at for the pollers to claim (predictions.poller, in a worker process).
_poll_messages = True


def poll_messages_send(enabled: bool) -> None:
    """A process whose poller runs (predictions.poller) schedules polls without messages."""
    global _poll_messages
    _poll_messages = enabled


# The pollers claim a row this little before it falls due (they look every poller.TICK seconds).
POLLER_EARLY = timedelta(milliseconds=50)


def _due_claim(
    statuses: tuple[str, ...], assignments: str, values: list[Any], limit: int, due_by: datetime | None = None
) -> list[Prediction]:
    """Claim up to `limit` rows in `statuses` due by `due_by` (default: now, as the pollers look),
    longest due first, in one `UPDATE … RETURNING`; rows another worker is claiming at this
    moment are skipped (PostgreSQL), not waited for. The rows as updated."""
    due_by = due_by or timezone.now() + POLLER_EARLY
    table = Prediction._meta.db_table
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    marks = ", ".join(["%s"] * len(statuses))
    sql = (
        f"UPDATE {table} SET {assignments} WHERE id IN ("  # noqa: S608 - names from the model, values bound
        f"SELECT id FROM {table} WHERE status IN ({marks}) AND next_poll_at <= %s "
        f"ORDER BY next_poll_at LIMIT %s{skip_locked}) RETURNING *"
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [*values, *statuses, adapt(due_by), limit]
    return list(Prediction.objects.raw(sql, params))


def due_polls_claim(limit: int) -> tuple[datetime, list[Prediction]]:
    """Claim up to `limit` running predictions whose poll is due: their lease moves on
    (POLL_LEASE, as a poll task's claim) and the poll is counted. Returns the lease, which
    `poll_claims_release` needs, and the claimed rows as updated."""
    lease_until = timezone.now() + POLL_LEASE
    adapt = connection.ops.adapt_datetimefield_value
    claimed = _due_claim(
        (Status.STARTING, Status.PROCESSING),
        "next_poll_at = %s, poll_count = poll_count + 1",
        [adapt(lease_until)],
        limit,
    )
    return lease_until, claimed


def due_creates_claim(limit: int) -> list[Prediction]:
    """Claim up to `limit` queued predictions that are due for their create, as
    `prediction_submit` claims one (status submitting, the attempt counted, SUBMITTING_LEASE)."""
    adapt = connection.ops.adapt_datetimefield_value
    return _due_claim(
        (Status.QUEUED,),
        "status = %s, attempts = attempts + 1, next_poll_at = %s",
        [Status.SUBMITTING, adapt(timezone.now() + SUBMIT_LEASE)],
        limit,
    )


def polls_late_by() -> float:
    """Seconds the longest-due poll not yet claimed has waited (0 when none is due): a read."""
    now = timezone.now()
    oldest = Prediction.objects.filter(
        status__in=(Status.STARTING, Status.PROCESSING), next_poll_at__lte=now
    ).aggregate(oldest=Min("next_poll_at"))["oldest"]
    return (now - oldest).total_seconds() if oldest else 0.0


def work_due() -> bool:
    """Whether a create or a poll is due now: a read, for a poller with nothing to do."""
    return Prediction.objects.filter(
        status__in=(Status.QUEUED, Status.STARTING, Status.PROCESSING),
        next_poll_at__lte=timezone.now() + POLLER_EARLY,
    ).exists()


def poll_claims_release(claims: list[tuple[int, datetime]]) -> int:
    """Give back claims of `due_polls_claim` no poll was started for: due again now."""
    released = 0
    now = timezone.now()
    for pk, lease in claims:
        released += Prediction.objects.filter(pk=pk, next_poll_at=lease).update(next_poll_at=now)
    return released


def create_claims_release(prediction_ids: list[int]) -> int:
    """Give back creates `due_creates_claim` claimed that were never sent: queued again, due now.
    (An attempt counted for nothing: SUBMIT_MAX_ATTEMPTS is far from reach.)"""
    return sum(
        services.prediction_transition(pk, Status.SUBMITTING, Status.QUEUED, next_poll_at=timezone.now())
        for pk in prediction_ids
    )


def prediction_poll_claimed(prediction: Prediction, *, client: DeerAPIClient | None = None) -> bool:
    """Poll a prediction `due_polls_claim` claimed (the poller's threads); True when the poll ended
    it (stored, failed or canceled), False while it runs on."""
    with services.in_language(prediction.language):
        return _refresh_claimed(prediction, client or get_client(), timezone.now())


def _refresh_claimed(prediction: Prediction, client: DeerAPIClient, now) -> bool:
    prediction_id = prediction.pk
    try:
        remote = client.get_prediction(prediction.deerapi_id)
    except (TransientError, AuthError) as exc:
        # A rejected key may be fixed by an admin; keep trying (30 to 60 s apart) until the timeout.
        delay = services.jittered(
            60.0 if isinstance(exc, AuthError) else poll_interval(prediction, now) * 2, exc.retry_after
        )
        logger.info("prediction=%s poll failed (%s); again in %.1fs", prediction_id, exc.message, delay)
        with transaction.atomic():
            if (
                Prediction.objects.filter(pk=prediction_id, status=prediction.status).update(
                    next_poll_at=timezone.now() + timedelta(seconds=delay)
                )
                and _poll_messages
            ):
                services.enqueue("poll", prediction_id, countdown=delay)
        return False
    except PermanentError as exc:
        return services.prediction_fail(
            prediction_id,
            prediction.status,
            _("DeerAPI could not report on this prediction: %(msg)s") % {"msg": exc.message},
        )
    health.heartbeat_record(health.POLL, every=health.POLL_HEARTBEAT_EVERY)  # for /healthz
    moved = _apply_remote(prediction, prediction.status, remote, store_now=True)
    if moved == Status.STORING:
        # Stored by this task rather than a new one: no second message, claim and wait.
        storing.store_claimed(prediction, stored=set())
    return moved is not None and moved not in (Status.STARTING, Status.PROCESSING)


SWEEP_BATCH = 1000

# Recoveries of the apps above that the beat sweep runs after the predictions' own (webhooks:
# deliveries whose message was lost): one beat message per tick however many apps recover work.
_sweeps: list[Callable[[], object]] = []


def sweep_register(sweep: Callable[[], object]) -> None:
    """Have every beat sweep also run `sweep` (each app's AppConfig.ready())."""
    if sweep not in _sweeps:
        _sweeps.append(sweep)


def registered_sweeps() -> list[Callable[[], object]]:
    return list(_sweeps)


def _late_rows_claim(status: str, late: datetime, lease_until: datetime) -> list[int]:
    """Move the lease of up to SWEEP_BATCH rows in `status` due by `late`; their ids.

    A row the sweep re-sends is not due again until `lease_until`, so it gets at most one
    message per lease however far behind the workers are.
    """
    adapt = connection.ops.adapt_datetimefield_value
    claimed = _due_claim((status,), "next_poll_at = %s", [adapt(lease_until)], SWEEP_BATCH, due_by=late)
    return [row.pk for row in claimed]


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
        with services.in_language(language):
            message = _("Timed out: no result after %(min)d minutes.") % {"min": settings.PREDICTION_TIMEOUT // 60}
        if services.prediction_fail(pk, status, message):
            counts["timed_out"] += 1

    # A claim whose lease ran out: the worker died while sending the create.
    for pk, language in Prediction.objects.filter(status=Status.SUBMITTING, next_poll_at__lt=now).values_list(
        "pk", "language"
    )[:SWEEP_BATCH]:
        with services.in_language(language):
            reason = _("the worker stopped while sending it")
            message = f"{UNKNOWN_EXPLANATION} ({reason})"
        if services.prediction_transition(pk, Status.SUBMITTING, Status.UNKNOWN, next_poll_at=None, error=message):
            counts["unknown"] += 1

    resend = [(Status.STORING, "store", storing.STORE_LEASE)]
    if services.create_messages():
        resend[:0] = [
            (Status.QUEUED, "submit", SUBMIT_LEASE),
            (Status.STARTING, "poll", POLL_LEASE),
            (Status.PROCESSING, "poll", POLL_LEASE),
        ]
    # else the workers' pollers claim every queued or running row that is due, however late
    # (a backlog, or a claim whose worker died and whose lease ran out): no message is lost.
    for status, task, lease in resend:
        lease_until = now + lease
        with transaction.atomic():
            ids = _late_rows_claim(status, late, lease_until)
            for pk in ids:
                services.enqueue(task, pk, lease=lease_until)
        counts[task] += len(ids)
    if any(counts.values()):
        logger.info("sweep %s", " ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


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
