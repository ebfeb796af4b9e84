"""Heartbeats and failures of the background work, and the health report /healthz gives.

The beat sweep records a "sweep" heartbeat every run; a successful DeerAPI poll
records a "poll" heartbeat (at most every few seconds per process); a task that
raises records a `TaskFailure`. DeerWeb is healthy when:
- the database and the broker answer;
- the sweep ran recently (without it, lost messages are never recovered);
- no prediction sits in a working state past its lease: its `next_poll_at` is
  older than the sweep would ever let it get (`overdue_after`);
- tasks do not keep raising: fewer than HEALTH_FAILURE_LIMIT failures in the last
  HEALTH_FAILURE_WINDOW seconds, and no prediction still in a working state whose
  tasks raised twice in that time (a prediction stuck in a loop of failing tasks).
DeerAPI being unreachable, out of balance or refusing the key is a warning, not a
failure: DeerWeb itself works, and restarting it would not help.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from ops.models import Heartbeat, TaskFailure

logger = logging.getLogger(__name__)

SWEEP = "sweep"
POLL = "poll"
# Seconds a polling process waits before it records another "poll" heartbeat.
POLL_HEARTBEAT_EVERY = 5.0
# A load balancer's check must answer quickly even when the broker does not.
BROKER_TIMEOUT = 2.0

Check = Callable[[datetime], dict[str, Any]]
# The checks other apps add in their AppConfig.ready(): name -> check. A check answers a
# dict with "ok" (False fails /healthz) or "warning" (True lists it under warnings).
_checks: dict[str, Check] = {}
# The ids of the predictions still being worked on, as a subquery (set by the predictions app).
_working_predictions: Callable[[], QuerySet] | None = None
# The Celery tasks whose first argument is a prediction's id (set by the predictions app).
prediction_tasks: set[str] = set()

# When this process last wrote each heartbeat (time.monotonic()).
_written: dict[str, float] = {}

# When this process started (its health module was loaded). For sweep_max_age() after it, a worker
# that has not swept since is only a warning: web, worker and scheduler start together (`make
# run`, compose), and the first sweep comes some seconds after the first page (a start period, as
# Docker's health checks have).
_started = timezone.now()


def heartbeat_record(name: str, *, every: float = 0.0) -> bool:
    """Note that `name` ran now: one upsert. With `every`, skip the write when this
    process wrote the same heartbeat less than `every` seconds ago. True if written."""
    clock = time.monotonic()
    if every and clock - _written.get(name, -math.inf) < every:
        return False
    _written[name] = clock
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, at=timezone.now())],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["at"],
    )
    return True


def heartbeat_at(name: str) -> datetime | None:
    """When `name` last ran (its heartbeat), or None if it never did."""
    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()


def sweep_max_age() -> float:
    """How old the sweep heartbeat may be before the worker (or beat) counts as down."""
    return 3 * settings.SWEEP_INTERVAL + 30


def overdue_after() -> float:
    """Seconds past its `next_poll_at` a working prediction may sit before it counts as stuck:
    by then the sweep (every SWEEP_INTERVAL, once a row is SWEEP_GRACE late) has re-sent it
    and moved its lease, unless the sweep itself is not working."""
    return settings.SWEEP_GRACE + 3 * settings.SWEEP_INTERVAL + 30


def task_failure_record(task: str, error: BaseException, prediction_id: int | None) -> None:
    """Note a task that raised (connected to Celery's task_failure in apps.py)."""
    try:
        TaskFailure.objects.create(task=task[:100], error=type(error).__name__[:100], prediction_id=prediction_id)
    except DatabaseError:
        logger.warning("could not record the failure of task %s", task)


def task_failures_prune(now: datetime) -> int:
    """Forget failures older than a day (run by the sweep)."""
    return TaskFailure.objects.filter(at__lt=now - timedelta(days=1)).delete()[0]


def _broker_error() -> str | None:
    """None when the broker accepts a connection; else the error's class name (a
    message could name the broker URL and its password)."""
    try:
        with current_app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as connection:
            # kombu takes seconds as floats (its docstring says so); its stubs say int.
            retry: dict[str, Any] = {
                "max_retries": 1,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.2,
                "timeout": BROKER_TIMEOUT,
            }
            connection.ensure_connection(**retry)
    except Exception as exc:  # any failure means the broker does not answer
        return exc.__class__.__name__
    return None


def age_seconds(at: datetime | None, now: datetime) -> float | None:
    """Seconds from `at` to `now`, one decimal, never negative; None without `at`."""
    return None if at is None else round(max(0.0, (now - at).total_seconds()), 1)


def check_register(name: str, check: Check) -> None:
    """Add a check to the health report (each app's AppConfig.ready())."""
    _checks[name] = check


def prediction_tasks_register(names: Iterable[str]) -> None:
    """Name the Celery tasks whose first argument is a prediction's id."""
    prediction_tasks.update(names)


def working_predictions_register(ids: Callable[[], QuerySet]) -> None:
    """Tell the tasks check which predictions are still being worked on (a values("pk") query)."""
    global _working_predictions
    _working_predictions = ids


def _tasks_check(now: datetime) -> dict[str, Any]:
    window = settings.HEALTH_FAILURE_WINDOW
    recent = TaskFailure.objects.filter(at__gte=now - timedelta(seconds=window))
    summary = recent.aggregate(count=Count("pk"), last=Max("at"))
    stuck: list[int] = []
    if _working_predictions is not None:
        stuck = [
            pk
            for pk in recent.filter(prediction_id__in=_working_predictions())
            .values("prediction_id")
            .annotate(failures=Count("pk"))
            .filter(failures__gte=2)
            .values_list("prediction_id", flat=True)[:10]
            if pk is not None
        ]
    return {
        "ok": summary["count"] < settings.HEALTH_FAILURE_LIMIT and not stuck,
        "failures": summary["count"],
        "window_seconds": window,
        "limit": settings.HEALTH_FAILURE_LIMIT,
        "last_failure": summary["last"].isoformat() if summary["last"] else None,
        "stuck_predictions": stuck,
    }


def health_report(*, broker: bool = True) -> dict[str, Any]:
    """What /healthz answers: `status` "ok" or "failing", the names of the `failing`
    checks and of the checks with `warnings`, and each check's detail. No setting, URL,
    key or error text is ever part of it. `broker=False` skips the broker check (the
    admin's banner, which must not wait on a broker that does not answer)."""
    now = timezone.now()
    checks: dict[str, dict[str, Any]] = {}
    try:
        beats = dict(Heartbeat.objects.filter(name__in=[SWEEP, POLL]).values_list("name", "at"))
    except DatabaseError as exc:
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
        beats = None
    else:
        checks["database"] = {"ok": True}

    if broker:
        error = _broker_error()
        checks["broker"] = {"ok": True} if error is None else {"ok": False, "error": error}

    if beats is None:
        checks["worker"] = {"ok": False, "error": "the database did not answer"}
        checks["last_poll"] = {"at": None, "age_seconds": None}
    else:
        sweep_at, poll_at = beats.get(SWEEP), beats.get(POLL)
        sweep_age = age_seconds(sweep_at, now)
        swept = sweep_age is not None and sweep_age <= sweep_max_age()
        starting = (
            not swept
            and (sweep_at is None or sweep_at < _started)
            and (now - _started).total_seconds() <= sweep_max_age()
        )
        checks["worker"] = {
            "ok": swept or starting,
            "last_sweep": sweep_at.isoformat() if sweep_at else None,
            "age_seconds": sweep_age,
            "max_age_seconds": sweep_max_age(),
        }
        if starting:  # no sweep since this process started, moments ago
            checks["worker"].update(warning=True, starting=True)
        # Informational: with nothing running there is nothing to poll.
        checks["last_poll"] = {"at": poll_at.isoformat() if poll_at else None, "age_seconds": age_seconds(poll_at, now)}
        try:
            for name, check in _checks.items():
                checks[name] = check(now)
            checks["tasks"] = _tasks_check(now)
        except DatabaseError as exc:
            checks["database"] = {"ok": False, "error": exc.__class__.__name__}

    failing = [name for name, check in checks.items() if check.get("ok") is False]
    warnings = [name for name, check in checks.items() if check.get("warning")]
    return {"status": "failing" if failing else "ok", "failing": failing, "warnings": warnings, "checks": checks}
