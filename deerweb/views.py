"""The site's own pages: the error pages (403, 404, 500, a refused form) and /favicon.ico.

Every error page has the site's header and a way back: home, and the page the visitor came
from when the browser says (a same-site Referer). The 500 page is rendered without context
processors or the visitor's session, so it still shows when the database is down.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import csrf
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

FAVICON = "deerweb/favicon.svg"
# The last resort when even the 500 template cannot be rendered.
BARE_500 = (
    '<!doctype html><html lang="en"><title>Server error</title><h1>Server error (500)</h1><p><a href="/">Home</a></p>'
)


def came_from(request: HttpRequest) -> str:
    """The page the visitor came from, when it is on this site; else "".

    Not the address just asked for (a reload of the error page), except after a POST, where
    it is the form's page.
    """
    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except DisallowedHost:
        return ""
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    ):
        return ""
    if request.method in ("GET", "HEAD") and referer == request.build_absolute_uri():
        return ""
    return referer


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"back": came_from(request)}, status=403)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"back": came_from(request)}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered from the request's headers alone: no context processors, no session, no query."""
    context = {"back": came_from(request), "sandbox": settings.SANDBOX}
    try:
        return HttpResponseServerError(loader.get_template("500.html").render(context))
    except Exception:
        logger.exception("the 500 page could not be rendered")
        return HttpResponseServerError(BARE_500)


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused for a missing or stale CSRF token. With DEBUG, Django's page says why."""
    if settings.DEBUG:
        return csrf.csrf_failure(request, reason=reason)
    return render(request, "403_csrf.html", {"back": came_from(request)}, status=403)


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers that ask for /favicon.ico on their own are sent to the SVG icon pages link to.

    A temporary redirect: the static file's name changes with its content.
    """
    response = HttpResponseRedirect(static(FAVICON))
    response["Cache-Control"] = "public, max-age=86400"
    return response
