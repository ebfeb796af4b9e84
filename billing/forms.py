"""Forms of the usage pages and of the quota admin: the dates and filters of a
ledger, a member's limits, an admin's adjustment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from billing import alerts as billing_alerts
from billing import services as billing
from billing.models import LedgerKind, MemberQuota, Period
from catalog import selectors as catalog_selectors
from common.widgets import IsoDateField, PlainSelect, choice_field

# The by-day chart has one bar per day: a year at most.
MAX_DAYS = 366


def model_choices(
    keep: list[str] | tuple[str, ...] = (), enabled: list[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """Enabled models (one query, unless `enabled` gives them), plus any id in `keep`
    (so a saved choice never silently disappears)."""
    choices = (
        enabled
        if enabled is not None
        else [(spec.id, f"{spec.name} ({spec.id})") for spec in catalog_selectors.models_enabled()]
    )
    known = {model_id for model_id, _label in choices}
    return choices + [(model_id, model_id) for model_id in keep if model_id not in known]


@dataclass(frozen=True)
class UsageChoice:
    """What a usage page shows: whole local days `since`..`until`, and the ledger filters."""

    since: date
    until: date
    kind: str = ""
    model_id: str = ""
    member_id: int | None = None

    @property
    def start(self) -> datetime:
        return billing.midnight(self.since)

    @property
    def end(self) -> datetime:
        return billing.midnight(self.until + timedelta(days=1))


class UsageFilterForm(forms.Form):
    since = IsoDateField(label=_("From"), required=False)
    until = IsoDateField(label=_("To"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False, widget=PlainSelect)
    model = forms.ChoiceField(label=_("Model"), required=False, widget=PlainSelect)
    member = forms.TypedChoiceField(label=_("Member"), required=False, coerce=int, empty_value=None, widget=PlainSelect)

    def __init__(
        self,
        *args: Any,
        today: date,
        models: list[tuple[str, str]],
        members: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["since"].initial = today.replace(day=1)
        self.fields["until"].initial = today
        choice_field(self, "kind").choices = [("", _("All kinds")), *LedgerKind.choices]
        choice_field(self, "model").choices = [("", _("All models")), *models]
        if members is None:
            del self.fields["member"]
        else:
            choice_field(self, "member").choices = [("", _("Everyone")), *members]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        since = data.get("since") or self.today.replace(day=1)
        until = data.get("until") or max(self.today, since)
        if until < since:
            raise forms.ValidationError(_("“To” must not be before “From”."), code="order")
        if (until - since).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose at most %(n)d days."), code="span", params={"n": MAX_DAYS})
        data["since"], data["until"] = since, until
        return data

    def choice(self) -> UsageChoice:
        """The valid choice, or this month when the form has errors (they are shown beside it)."""
        if self.is_bound and self.is_valid():
            data = self.cleaned_data
            return UsageChoice(
                data["since"], data["until"], data.get("kind") or "", data.get("model") or "", data.get("member")
            )
        return UsageChoice(self.today.replace(day=1), self.today)


class ThresholdsField(forms.CharField):
    """ "80, 100" -> [80, 100] (billing.alerts.alert_thresholds_parse's rules); empty -> None."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[int] | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return billing_alerts.alert_thresholds_parse(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="thresholds") from None

    def prepare_value(self, value: Any) -> Any:
        return billing_alerts.alert_thresholds_text(value) if isinstance(value, list | tuple) else value


class MemberLimitsForm(forms.Form):
    """A member's budget and in-flight limit: the small form beside each member on the
    team usage page (their allowed models stay as they are)."""

    budget = forms.DecimalField(
        label=_("Budget per period (USD)"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=4,
        help_text=_("Empty: unlimited."),
    )
    period = forms.ChoiceField(label=_("Period"), choices=Period.choices)
    max_in_flight = forms.IntegerField(
        label=_("Predictions in flight at most"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=_("Empty: no limit."),
    )
    alert_thresholds = ThresholdsField(
        label=_("Budget alerts at (percent of the budget)"),
        help_text=_("For example “80, 100”. Empty: the team's thresholds for members."),
    )

    def __init__(
        self, *args: Any, limits: billing.Limits, alert_thresholds: list[int] | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault(
            "initial",
            {
                "alert_thresholds": alert_thresholds,
                "budget": billing.format_usd(limits.budget)[1:].replace(",", "") if limits.budget is not None else None,
                "period": limits.period,
                "max_in_flight": limits.max_in_flight,
                "allowed_models": list(limits.allowed_models),
            },
        )
        super().__init__(*args, **kwargs)


class MemberQuotaForm(MemberLimitsForm):
    """All of a member's limits, with the models they may use."""

    allowed_models = forms.MultipleChoiceField(
        label=_("Allowed models"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every enabled model."),
    )

    def __init__(self, *args: Any, limits: billing.Limits, **kwargs: Any) -> None:
        super().__init__(*args, limits=limits, **kwargs)
        choice_field(self, "allowed_models").choices = model_choices(limits.allowed_models)


class MemberQuotaAdminForm(forms.ModelForm):
    allowed_models = forms.MultipleChoiceField(
        label=_("Allowed models"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every enabled model."),
    )

    class Meta:
        model = MemberQuota
        fields = ("user", "budget", "period", "max_in_flight", "allowed_models", "auto_approve")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "allowed_models").choices = model_choices(self.instance.allowed_models or ())


class LedgerAdjustForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Member"), queryset=get_user_model().objects.order_by("username"))
    amount = forms.DecimalField(
        label=_("Amount (USD)"),
        max_digits=12,
        decimal_places=4,
        help_text=_("Positive charges the member; negative gives back."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, help_text=_("The member sees it in their ledger."))

    def clean_amount(self) -> Any:
        amount = self.cleaned_data["amount"]
        if not amount:
            raise forms.ValidationError(_("Enter an amount other than zero."), code="zero")
        return amount
