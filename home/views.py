"""The home page: what a person opens DeerWeb for, by role.

Every member: their predictions running now (live, through the detail page's live part),
their spending this period against their budget, their latest results. Reviewers: the review
queue's size and oldest prediction. Admins: the team's spending this month, DeerAPI's balance
and any health warning. Only other apps' public selectors; a constant number of queries per role.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from billing import selectors as billing_selectors
from common import permissions
from common.permissions import AuthedHttpRequest
from ops import health
from predictions import selectors as prediction_selectors
from reviews import selectors as review_selectors

RUNNING_SHOWN = 6
RESULTS_SHOWN = 8


@login_required
@require_safe
def home(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    spending = billing_selectors.member_period_spending(user)
    running = prediction_selectors.predictions_running(user, limit=RUNNING_SHOWN + 1)
    is_admin = permissions.is_admin(user)
    context = {
        "spending": spending,
        # The header shows the same budget: read once.
        "member_budget": spending.status,
        "running": running[:RUNNING_SHOWN],
        "more_running": len(running) > RUNNING_SHOWN,
        "results": prediction_selectors.latest_results(user, limit=RESULTS_SHOWN),
        "queue": review_selectors.review_queue_summary() if permissions.is_reviewer(user) else None,
        "team": billing_selectors.team_month_spending() if is_admin else None,
        # The admin index's report: without the broker check, which must not hold up a page.
        "health": health.health_report(broker=False) if is_admin else None,
    }
    return render(request, "home/home.html", context)
