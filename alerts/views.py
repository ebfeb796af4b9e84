"""The budget alerts' settings page (admins): thresholds and the team's Slack webhook."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from alerts import services
from alerts.forms import AlertSettingsForm
from billing import services as billing
from billing.models import TeamSettings
from common import permissions
from common.permissions import AuthedHttpRequest


@login_required
@require_http_methods(["GET", "POST"])
def alert_settings(request: AuthedHttpRequest) -> HttpResponse:
    if not permissions.is_admin(request.user):
        raise PermissionDenied
    team = TeamSettings.objects.filter(pk=1).first() or TeamSettings()
    initial = {"alert_thresholds": team.alert_thresholds, "team_alert_thresholds": team.team_alert_thresholds}
    status = 200
    if request.method == "POST":
        form = AlertSettingsForm(request.POST, initial=initial)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["slack_url"]:
                    services.slack_url_set(data["slack_url"], by=request.user)
            except ValueError as exc:
                form.add_error("slack_url", str(exc))
            else:
                if data["slack_clear"]:
                    services.slack_url_clear(by=request.user)
                billing.team_settings_update(
                    {
                        "alert_thresholds": data["alert_thresholds"] or [],
                        "team_alert_thresholds": data["team_alert_thresholds"] or [],
                    },
                    by=request.user,
                )
                messages.success(request, _("Alert settings saved."))
                return redirect("alerts:settings")
        status = 400
    else:
        form = AlertSettingsForm(initial=initial)
    context = {"form": form, "slack": services.slack_source(), "sources": services.SlackSource}
    return render(request, "alerts/settings.html", context, status=status)
