"""Who is calling: a member's personal API token, its rate limit, and whether it may write.

A request through a token is that member: the same budgets, in-flight limit, allowed
models, history, review and audit entries as in the browser.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from accounts.tokens import token_authenticate
from api.errors import ApiError, unauthenticated

if TYPE_CHECKING:
    from accounts.models import ApiToken

RATE_WINDOW = 60  # seconds


def _bearer(request: HttpRequest) -> str:
    """The token of `Authorization: Bearer <token>` (or Replicate's older `Token <token>`)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() in ("bearer", "token") else ""


def rate_limit_check(token: ApiToken, *, now: float | None = None) -> None:
    """At most DEERWEB_API_RATE_LIMIT requests per token per minute; 429 with Retry-After above.

    Counted in Django's cache (Redis when DEERWEB_CACHE_URL names one: shared by every web
    process; else each process counts on its own)."""
    limit = settings.API_RATE_LIMIT
    if not limit:
        return
    now = time.time() if now is None else now
    window = int(now // RATE_WINDOW)
    key = f"deerweb:api-rate:{token.key_hash[:16]}:{window}"
    cache.add(key, 0, timeout=RATE_WINDOW * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW * 2)
        count = 1
    if count > limit:
        retry_after = max(1, int((window + 1) * RATE_WINDOW - now))
        raise ApiError(
            429,
            "Too many requests",
            f"This token made more than {limit} requests in a minute; try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def api_token_get(request: HttpRequest, *, write: bool = False) -> ApiToken:
    """The caller's token, checked; raises ApiError (401, 403 or 429) otherwise."""
    raw = _bearer(request)
    token = token_authenticate(raw, address=get_client_ip_address(request)) if raw else None
    if token is None:
        raise unauthenticated()
    rate_limit_check(token)
    if write and token.read_only:
        raise ApiError(
            403,
            "Forbidden",
            "This token is read-only: it cannot create or cancel predictions, upload files or read the "
            "webhook signing secret.",
        )
    return token
