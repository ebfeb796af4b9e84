"""The budget alerts' settings form: the thresholds, and the Slack URL, which is write-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.forms import ThresholdsField


class AlertSettingsForm(forms.Form):
    alert_thresholds = ThresholdsField(
        label=_("Members' budget alerts at (percent of their budget)"),
        help_text=_("For example “80, 100”. For members without thresholds of their own. Empty: no alerts."),
    )
    team_alert_thresholds = ThresholdsField(
        label=_("Team budget alerts at (percent of the team budget)"),
        help_text=_("Sent to the admins. Empty: no alerts."),
    )
    slack_url = forms.CharField(
        label=_("New Slack webhook URL"),
        required=False,
        max_length=2000,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "A Slack-compatible incoming webhook (https://…): every alert is posted there. It is stored "
            "encrypted and never shown again. Empty: the current one stays."
        ),
    )
    slack_clear = forms.BooleanField(label=_("Remove the stored Slack URL"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("slack_url") and data.get("slack_clear"):
            raise forms.ValidationError(_("Give a new Slack URL or remove the stored one, not both."), code="both")
        return data
