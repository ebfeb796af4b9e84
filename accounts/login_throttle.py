"""Login throttling with django-axes: a few failures lock an account, and separately
an address, for a short while; the lockout is a message on the login page.

Axes checks every `authenticate()` that comes with a request, so DeerWeb's login
page and the admin's are both covered. Settings: AXES_* in deerweb/settings.py.
"""

from __future__ import annotations

import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import ngettext

LOCKED_OUT_STATUS = 429


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check for sign-ins through a web request.

    `authenticate()` without a request (the test client's `login()`, a shell) is
    no web sign-in and cannot be attacked from outside: it is passed on to the
    next backend instead of failing.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def lockout_message(request: HttpRequest | None = None) -> str:
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 1
    return ngettext(
        "Too many failed logins for this account or from this address. Try again in %(minutes)d minute.",
        "Too many failed logins for this account or from this address. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The login page the member just used (DeerWeb's or the admin's), its form showing
    the lockout instead of "wrong password", with status 429."""
    message = lockout_message(request)
    context = getattr(original_response, "context_data", None)
    form = context.get("form") if isinstance(context, dict) else None
    if not isinstance(original_response, TemplateResponse) or not isinstance(form, AuthenticationForm):
        # Not one of the login pages: say it on the next page instead.
        messages.error(request, message)
        return redirect(settings.LOGIN_URL)
    form.errors.clear()
    form.add_error(None, message)
    response = TemplateResponse(request, original_response.template_name, context, status=LOCKED_OUT_STATUS)
    return response.render()
