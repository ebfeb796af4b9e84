"""The audit log page's filters, and the actions it knows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from common import forms as common_forms
from common.forms import DateRangeForm, date_field
from common.widgets import choice_field

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def target_type_choices() -> list[tuple[str, StrOrPromise]]:
    # DeerWeb's own models: what its apps write to the audit log about.
    models = [m for m in apps.get_models() if not m.__module__.startswith(("django.", "axes."))]
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
    "token.",
    "token.create",
    "token.revoke",
    "quota.change",
    "ledger.adjust",
    "models.sync",
    "collection.delete",
    "sharelink.",
    "sharelink.create",
    "sharelink.open",
    "sharelink.revoke",
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
    since = date_field(_("From"))
    until = date_field(_("To"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor"] = forms.ChoiceField(
            label=_("Who"),
            required=False,
            choices=[
                ("", _("Anyone")),
                ("auto", _("DeerWeb (automatic)")),
                *((str(pk), name) for pk, name in common_forms.member_choices()),
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
