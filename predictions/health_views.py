"""/healthz: a JSON health report for load balancers. No login; no secrets."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from . import health


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with {"status": "ok", …} when the database and broker answer and the beat
    sweep ran recently; 503 with the failing checks otherwise."""
    report = health.health_report()
    response = JsonResponse(report, status=200 if report["status"] == "ok" else 503)
    response["Cache-Control"] = "no-store"
    return response
