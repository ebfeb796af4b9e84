"""Forms of the collections pages: a collection's name and visibility, adding to one, a share link."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from albums.models import Collection, Visibility


class CollectionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    visibility = forms.ChoiceField(
        label=_("Visible to"), choices=Visibility.choices, initial=Visibility.PRIVATE, widget=forms.RadioSelect
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the collection a name."))
        return name


class AddForm(forms.Form):
    """Which collection to add the chosen outputs to: one of the member's, or a new one by name."""

    collection = forms.TypedChoiceField(label=_("Collection"), required=False, coerce=int, empty_value=None)
    new_name = forms.CharField(label=_("Or a new collection named"), max_length=120, required=False)

    def __init__(self, *args: Any, collections: list[Collection], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["collection"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("— a new collection —")), *((c.pk, c.name) for c in collections)]
        if collections:
            field.initial = collections[0].pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["new_name"] = (data.get("new_name") or "").strip()
        if not data.get("collection") and not data["new_name"]:
            raise forms.ValidationError(_("Choose a collection, or name a new one."))
        return data


class ShareLinkForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("The link works for"),
        coerce=int,
        choices=[(1, _("a day")), (7, _("a week")), (30, _("a month"))],
        initial=7,
        widget=forms.RadioSelect,
    )
    show_prompt = forms.BooleanField(label=_("Show the prompts"), required=False)
