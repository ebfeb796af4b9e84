"""Heartbeats of the background work, and the health report /healthz gives load balancers.

The beat sweep records a "sweep" heartbeat every run; a successful DeerAPI poll
records a "poll" heartbeat (at most every few seconds per process). DeerWeb is
healthy when the database and the broker answer and the sweep ran recently:
without a sweep, lost messages and stuck predictions are never recovered.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from .models import Heartbeat

SWEEP = "sweep"
POLL = "poll"
# Seconds a polling process waits before it records another "poll" heartbeat.
POLL_HEARTBEAT_EVERY = 5.0
# A load balancer's check must answer quickly even when the broker does not.
BROKER_TIMEOUT = 2.0

# When this process last wrote each heartbeat (time.monotonic()).
_written: dict[str, float] = {}


def heartbeat_record(name: str, *, every: float = 0.0) -> bool:
    """Note that `name` ran now: one upsert. With `every`, skip the write when this
    process wrote the same heartbeat less than `every` seconds ago. True if written."""
    clock = time.monotonic()
    if every and clock - _written.get(name, -math.inf) < every:
        return False
    _written[name] = clock
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, at=timezone.now())],
        update_conflicts=True, unique_fields=["name"], update_fields=["at"],
    )
    return True


def sweep_max_age() -> float:
    """How old the sweep heartbeat may be before the worker (or beat) counts as down."""
    return 3 * settings.SWEEP_INTERVAL + 30


def _broker_error() -> str | None:
    """None when the broker accepts a connection; else the error's class name (a
    message could name the broker URL and its password)."""
    try:
        with current_app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0.2, interval_max=0.2, timeout=BROKER_TIMEOUT
            )
    except Exception as exc:  # any failure means the broker does not answer
        return exc.__class__.__name__
    return None


def _age(at: datetime | None, now: datetime) -> float | None:
    return None if at is None else round(max(0.0, (now - at).total_seconds()), 1)


def health_report() -> dict[str, Any]:
    """What /healthz answers: `status` "ok" or "failing", the names of the `failing`
    checks, and each check's detail. No setting, URL or key is ever part of it."""
    now = timezone.now()
    checks: dict[str, dict[str, Any]] = {}
    try:
        beats = dict(Heartbeat.objects.filter(name__in=[SWEEP, POLL]).values_list("name", "at"))
    except DatabaseError as exc:
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
        beats = None
    else:
        checks["database"] = {"ok": True}

    error = _broker_error()
    checks["broker"] = {"ok": True} if error is None else {"ok": False, "error": error}

    if beats is None:
        checks["worker"] = {"ok": False, "error": "the database did not answer"}
        checks["last_poll"] = {"at": None, "age_seconds": None}
    else:
        sweep_at, poll_at = beats.get(SWEEP), beats.get(POLL)
        sweep_age = _age(sweep_at, now)
        checks["worker"] = {
            "ok": sweep_age is not None and sweep_age <= sweep_max_age(),
            "last_sweep": sweep_at.isoformat() if sweep_at else None,
            "age_seconds": sweep_age,
            "max_age_seconds": sweep_max_age(),
        }
        # Informational: with nothing running there is nothing to poll.
        checks["last_poll"] = {"at": poll_at.isoformat() if poll_at else None, "age_seconds": _age(poll_at, now)}

    failing = [name for name, check in checks.items() if check.get("ok") is False]
    return {"status": "failing" if failing else "ok", "failing": failing, "checks": checks}
