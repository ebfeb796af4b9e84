"""The member's webhooks page, and the webhook section of a prediction's page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from common import permissions
from common.permissions import AuthedHttpRequest
from predictions.models import Prediction
from webhooks import selectors, services


def prediction_panel(request: AuthedHttpRequest, prediction: Prediction) -> tuple[str, dict[str, Any]] | None:
    """The webhook section of a prediction's page (predictions.views.detail_panels_register), for
    its owner and whoever sees the team's predictions: the host and each attempt. One query
    without a webhook, two with one."""
    if prediction.owner_id != request.user.pk and not permissions.can_view_team(request.user):
        return None
    subscription = selectors.subscription_of(prediction.pk)
    if subscription is None:
        return None
    context = {"subscription": subscription, "deliveries": selectors.subscription_deliveries(subscription)}
    return "webhooks/_prediction_panel.html", context


@login_required
@require_GET
def webhooks_mine(request: AuthedHttpRequest) -> HttpResponse:
    context = {
        "deliveries": list(selectors.member_deliveries(request.user.pk)),
        "rotated_at": selectors.signing_key_rotated_at(request.user.pk),
    }
    return render(request, "webhooks/mine.html", context)


@login_required
@require_POST
def webhook_secret_rotate(request: AuthedHttpRequest) -> HttpResponse:
    services.webhook_secret_rotate(request.user)
    messages.success(
        request,
        _(
            "Your webhook signing secret was replaced. Messages signed from now on verify only with the new "
            "secret: give it to your receivers (GET /replicate/v1/webhooks/default/secret)."
        ),
    )
    return redirect("webhooks:mine")
