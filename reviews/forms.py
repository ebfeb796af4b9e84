"""Forms of the review queue, the team gallery and the audit log: filters and decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog import specs as catalog
from common.forms import DateRangeForm, date_field, member_field
from common.widgets import PlainSelect, choice_field
from reviews import services as reviews

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_IDS = 200


def _model_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Model"),
        required=False,
        choices=[("", _("Every model")), *catalog.model_choices()],
        widget=PlainSelect,
    )


class QueueFilterForm(DateRangeForm):
    # Placeholders that fix the order; built per request in __init__ (their choices come from the database).
    member = forms.TypedChoiceField()
    model = forms.ChoiceField()
    since = date_field(_("From"))
    until = date_field(_("To"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = member_field()
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
        self.fields["member"] = member_field()
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
