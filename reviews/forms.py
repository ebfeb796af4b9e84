"""Forms of the review queue, the team gallery and the audit log: filters and decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from . import catalog, reviews, selectors
from .widgets import IsoDateField, PlainSelect, choice_field

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_IDS = 200


def _member_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_("Member"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Everyone")), *selectors.member_choices()],
        widget=PlainSelect,
    )


def _model_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Model"),
        required=False,
        choices=[("", _("Every model")), *catalog.model_choices()],
        widget=PlainSelect,
    )


def _date_field(label: StrOrPromise) -> forms.DateField:
    return IsoDateField(label=label, required=False)


class DateRangeForm(forms.Form):
    """A form whose `since` and `until` dates must come in that order."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data


class QueueFilterForm(DateRangeForm):
    # Placeholders that fix the order; built per request in __init__ (their choices come from the database).
    member = forms.TypedChoiceField()
    model = forms.ChoiceField()
    since = _date_field(_("From"))
    until = _date_field(_("To"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = _member_field()
        self.fields["model"] = _model_field()

    def filters(self) -> dict[str, Any]:
        """The valid filters (an invalid one is reported on the form and left out)."""
        data = self.cleaned_data if self.is_bound else {}
        return {
            "member_id": data.get("member"),
            "model_id": data.get("model") or "",
            "since": data.get("since"),
            "until": data.get("until"),
        }


class GalleryFilterForm(forms.Form):
    member = forms.TypedChoiceField()
    model = forms.ChoiceField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = _member_field()
        self.fields["model"] = _model_field()

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound else {}
        return {"member_id": data.get("member"), "model_id": data.get("model") or ""}


def reason_choices() -> list[tuple[str, StrOrPromise]]:
    return [*((key, _(text)) for key, text in reviews.REJECT_REASONS.items()), ("other", _("Other (write it below)"))]


class DecisionForm(forms.Form):
    """Approve or reject one prediction (`one` = "approve:12") or the selected ones (`ids`)."""

    action = forms.ChoiceField(required=False, choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    one = forms.RegexField(required=False, regex=r"^(approve|reject):\d{1,18}$")
    reason = forms.ChoiceField(label=_("Reason"), required=False)
    details = forms.CharField(label=_("Details"), required=False, max_length=reviews.REASON_MAX_LENGTH)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "reason").choices = [("", "—"), *reason_choices()]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        if not all(value.isdigit() and len(value) <= 18 for value in raw):
            raise forms.ValidationError(_("Predictions are selected by their numbers."))
        data["ids"] = [int(value) for value in raw]
        if data.get("one"):
            action, pk = data["one"].split(":")
            data["action"], data["ids"] = action, [int(pk)]
        if not data.get("action"):
            raise forms.ValidationError(_("Choose approve or reject."))
        if not data["ids"]:
            raise forms.ValidationError(_("Select at least one prediction."))
        if len(data["ids"]) > MAX_IDS:
            raise forms.ValidationError(_("Select at most %(n)d predictions at a time.") % {"n": MAX_IDS})
        if data["action"] == "reject" and "reason" in data:
            try:
                data["reason_text"] = reviews.reject_reason(data["reason"], data.get("details", ""))
            except reviews.ReviewError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


def target_type_choices() -> list[tuple[str, StrOrPromise]]:
    models = apps.get_app_config("predictions").get_models()
    return [("", _("Any")), *sorted((m._meta.label_lower, str(m._meta.verbose_name).capitalize()) for m in models)]


# Actions DeerWeb writes to the audit log; offered as suggestions in the filter.
KNOWN_ACTIONS = (
    "prediction.",
    "prediction.approve",
    "prediction.reject",
    "prediction.delete_files",
    "prediction.private",
    "prediction.public",
    "prediction.refund",
    "prediction.resolve_unknown",
    "user.",
    "user.create",
    "user.invite",
    "user.role",
    "user.deactivate",
    "user.reactivate",
    "user.password_link",
    "quota.change",
    "ledger.adjust",
    "models.sync",
)


class AuditFilterForm(DateRangeForm):
    actor = forms.CharField()
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=50,
        help_text=_("Exact, or a prefix ending in a dot: “prediction.”"),
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
    )
    target_type = forms.ChoiceField(label=_("Target"), required=False)
    target_id = forms.CharField(label=_("Target id"), required=False, max_length=50)
    since = _date_field(_("From"))
    until = _date_field(_("To"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor"] = forms.ChoiceField(
            label=_("Who"),
            required=False,
            choices=[
                ("", _("Anyone")),
                ("auto", _("DeerWeb (automatic)")),
                *((str(pk), name) for pk, name in selectors.member_choices()),
            ],
        )
        choice_field(self, "target_type").choices = target_type_choices()

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound else {}
        actor = data.get("actor") or ""
        return {
            "actor_id": int(actor) if actor.isdigit() else None,
            "automatic": actor == "auto",
            "action": (data.get("action") or "").strip(),
            "target_type": data.get("target_type") or "",
            "target_id": (data.get("target_id") or "").strip(),
            "since": data.get("since"),
            "until": data.get("until"),
        }


class AdminRejectForm(forms.Form):
    """The reason asked for by the Prediction admin's "reject" action."""

    reason = forms.ChoiceField(label=_("Reason"))
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=reviews.REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"size": 60}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "reason").choices = reason_choices()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "reason" in data:
            try:
                data["reason_text"] = reviews.reject_reason(data["reason"], data.get("details", ""))
            except reviews.ReviewError as exc:
                raise forms.ValidationError(exc.message) from None
        return data
