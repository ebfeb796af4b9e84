"""Forms of the team page: invite a member, change a role."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

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
