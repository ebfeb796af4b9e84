"""DeerAPI's webhooks, taken as hints (settings.DEERAPI_WEBHOOKS).

A create may carry a `webhook` URL; DeerAPI documents the field but not whether or how it calls
it, with what body, or signed how. So a call is never believed: it only brings the prediction's
next poll forward, and the poll says what happened. The URL names the prediction, signed with
the secret key, so a call for an id nobody was given is refused; a replayed call costs a poll.

While calls arrive (one in the last HINTS_FRESH), the poll schedule relies on them: a prediction
whose model has recent runs is first polled when the slowest of them would have ended, instead
of the fastest (see pipeline.poll_delay), and DeerAPI's call brings the poll forward
(pipeline.prediction_hint).
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from ops import health

HEARTBEAT = "deerapi-hint"
# DeerAPI counts as calling back while a call came within this long.
HINTS_FRESH = timedelta(minutes=10)
# How often this process reads (and writes) that a call came.
HINTS_CHECK_EVERY = 30.0
_SALT = "deerweb.predictions.hint"
_arriving: tuple[float, bool] | None = None  # (time.monotonic() read, answer)


def hints_enabled() -> bool:
    """Whether creates ask DeerAPI to call back (DEERWEB_DEERAPI_WEBHOOKS; "auto": an https PUBLIC_URL)."""
    if not settings.PUBLIC_URL or settings.DEERAPI_WEBHOOKS == "off":
        return False
    return settings.DEERAPI_WEBHOOKS == "on" or settings.PUBLIC_URL.startswith("https://")


def hint_url(prediction_id: int) -> str | None:
    """The URL a create asks DeerAPI to call when the prediction ends, or None (hints off)."""
    if not hints_enabled():
        return None
    token = signing.Signer(salt=_SALT).sign(str(prediction_id))
    return settings.PUBLIC_URL + reverse("deerapi_hint", args=[token])


def hint_prediction_id(token: str) -> int | None:
    """The prediction a hint URL's token names, or None when the signature is wrong."""
    try:
        value = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def hint_noted() -> None:
    """A call came: DeerAPI calls back (written at most every HINTS_CHECK_EVERY s per process)."""
    health.heartbeat_record(HEARTBEAT, every=HINTS_CHECK_EVERY)


def hints_arriving() -> bool:
    """Whether DeerAPI called back lately, so the poll schedule may wait for its calls. Read at
    most every HINTS_CHECK_EVERY seconds per process."""
    global _arriving
    clock = time.monotonic()
    if _arriving is not None and clock - _arriving[0] < HINTS_CHECK_EVERY:
        return _arriving[1]
    seen = health.heartbeat_at(HEARTBEAT) if hints_enabled() else None
    answer = seen is not None and timezone.now() - seen < HINTS_FRESH
    _arriving = (clock, answer)
    return answer


def hints_forget() -> None:
    """Forget what this process read (tests)."""
    global _arriving
    _arriving = None
