"""The web process's application: `uvicorn deerweb.asgi:application` (Procfile, Dockerfile).

ASGI, so the API's async views can wait on a prediction (`Prefer: wait`, ops.notifier) without
holding a thread. Two Django handlers share the process:

- the pages, with every middleware of `settings.MIDDLEWARE`; their views and middleware are
  sync, so Django runs each request's whole chain in one thread, as under WSGI;
- the Replicate-compatible API (`/replicate/`), with `settings.API_MIDDLEWARE` only: it answers
  tokens, not sessions, so sessions, CSRF, messages, locale and login lockouts do nothing
  there, and an all-async chain keeps no thread blocked while a request waits. DeerAPI's calls
  as predictions end (`/deerapi/hints/`, predictions.hints) take the same short chain: a signed
  URL is their key, and one comes for every prediction.

deerweb/wsgi.py stays for WSGI servers (every path through the full chain there).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deerweb.settings")

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]
API_PREFIXES = ("/replicate/", "/deerapi/hints/")


def _handler_with(middleware: list[str]) -> ASGIHandler:
    """A Django ASGI handler with its own middleware list (a handler reads the list once, when made)."""
    from django.conf import settings

    pages_middleware = settings.MIDDLEWARE
    settings.MIDDLEWARE = middleware
    try:
        return ASGIHandler()
    finally:
        settings.MIDDLEWARE = pages_middleware


def application_make() -> ASGIApp:
    """The pages' handler and the API's, each request sent to its own by path."""
    from django.conf import settings

    pages = get_asgi_application()
    api = _handler_with(settings.API_MIDDLEWARE)

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        handler = api if scope["type"] == "http" and scope["path"].startswith(API_PREFIXES) else pages
        await handler(scope, receive, send)

    return application


application = application_make()
