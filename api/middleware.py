"""The API's one middleware under ASGI (settings.API_MIDDLEWARE, deerweb/asgi.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.middleware.security import SecurityMiddleware


class SecurityHeadersMiddleware:
    """Django's SecurityMiddleware (HTTPS redirect, HSTS, nosniff, referrer and opener
    policies), its two steps run on the event loop: they touch no database, and as a
    MiddlewareMixin it would send each step to a thread. A request waking from `Prefer: wait`
    then answers without starting one."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]) -> None:
        self.get_response = get_response
        self.security = SecurityMiddleware(get_response)
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        redirect = self.security.process_request(request)
        response = redirect if redirect is not None else await self.get_response(request)
        return self.security.process_response(request, response)  # type: ignore[arg-type]
