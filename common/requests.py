"""Small things several apps' views ask of a request: whether a script wants JSON, where a safe
`next` leads, and a form's one-time value (so a reload or Back of the page that answered it does
not do it twice)."""

from __future__ import annotations

import secrets

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def wants_json(request: HttpRequest) -> bool:
    """A page's script asks for JSON; a plain form post does not."""
    return "application/json" in request.headers.get("Accept", "")


def safe_next(request: HttpRequest, default: str) -> str:
    """The request's `next` (form or query) when it leads to this site, else `default`."""
    data = request.POST if request.method == "POST" else request.GET
    target = data.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def form_nonce_issue(request: HttpRequest, key: str) -> str:
    """A new one-time value for the form the page shows, kept in the session under `key`."""
    nonce = request.session[key] = secrets.token_urlsafe(16)
    return nonce


def form_nonce_spent(request: HttpRequest, key: str) -> bool:
    """True once for the value of the form the page under `key` last showed (its `form_nonce`)."""
    expected = request.session.pop(key, None)
    return bool(expected) and secrets.compare_digest(str(expected), request.POST.get("form_nonce", ""))
