"""Forms of the team page (invite a member, change a role) and of a member's API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.tokens import NAME_MAX_LENGTH
from common import permissions

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def role_choices() -> list[tuple[str, StrOrPromise]]:
    return [(role, permissions.ROLE_LABELS[role]) for role in permissions.ROLES]


class InviteForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @/./+/-/_ only."),
    )
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=role_choices, initial=permissions.MEMBER)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("There is already an account named “%(name)s”."), params={"name": username})
        return username


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)


# How long a new API token works: days (0: until revoked).
TOKEN_EXPIRY_CHOICES = [
    (0, pgettext_lazy("token expiry", "Never")),
    (30, _("In 30 days")),
    (90, _("In 90 days")),
    (365, _("In a year")),
]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=_("What it is for, so you recognise it later: “laptop script”, say."),
    )
    expires = forms.TypedChoiceField(label=_("Expires"), choices=TOKEN_EXPIRY_CHOICES, coerce=int, initial=90)
    read_only = forms.BooleanField(
        label=_("Read-only"),
        required=False,
        help_text=_("It can read your predictions but not create or cancel any."),
    )

    def expires_at(self, now: datetime) -> datetime | None:
        days = self.cleaned_data["expires"]
        return now + timedelta(days=days) if days else None
