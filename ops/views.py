"""/healthz: a JSON health report for monitoring; /livez: a liveness check for load balancers.
No login; no secrets."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from ops import health


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with {"status": "ok", …} when DeerWeb works (see `health`); 503 with the
    failing checks otherwise. DeerAPI's troubles are listed in `warnings` with a 200."""
    report = health.health_report()
    response = JsonResponse(report, status=200 if report["status"] == "ok" else 503)
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def livez(request: HttpRequest) -> HttpResponse:
    """200 while this web process answers requests: no database or broker is asked, so a
    load balancer never takes every web process out because a dependency is slow."""
    response = HttpResponse("ok\n", content_type="text/plain")
    response["Cache-Control"] = "no-store"
    return response
