"""Form fields and forms that several apps' pages share: a member choice and a date range."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from common.widgets import IsoDateField, PlainSelect

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from django.contrib.auth import get_user_model


def member_choices() -> list[tuple[int, str]]:
    """Every account, for filter menus (a team has tens of members, not thousands)."""
    return list(get_user_model().objects.order_by("username").values_list("pk", "username"))


def member_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_("Member"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Everyone")), *member_choices()],
        widget=PlainSelect,
    )


def date_field(label: StrOrPromise) -> forms.DateField:
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
