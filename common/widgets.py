"""Form widgets (and the date field that goes with one) of DeerWeb's own, and a typed
accessor for the choice fields whose choices a form sets when it is built."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """`form.fields[name]`, which the form declares as a choice field (`fields` holds plain
    `Field`s to a type checker)."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is a {type(field).__name__}, not a ChoiceField")
    return field


class PlainSelect(forms.Select):
    """A <select> written out in Python, with the same markup as Django's. Django renders
    each <option> through two templates: for the member and model menus of the filter
    forms (50 options and more) that was several milliseconds of every page showing them."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            items = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((str(option["value"]), flatatt(option["attrs"]), option["label"]) for option in options),
            )
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', group_name, items) if group_name else items)
        options = mark_safe("".join(parts))  # noqa: S308 - every part went through format_html
        return format_html('<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options)


ISO_DATE = "%Y-%m-%d"


class IsoDateInput(forms.DateInput):
    """<input type="date">: browsers show and send its value only as YYYY-MM-DD, so it is
    written that way whatever the page's language (Simplified Chinese would write 2026/12/01,
    which the browser drops, leaving the box empty)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=ISO_DATE)


class IsoDateField(forms.DateField):
    """A date picked in an `IsoDateInput`: read as YYYY-MM-DD in every language."""

    widget = IsoDateInput
    input_formats = [ISO_DATE]


class PromptTextarea(forms.Textarea):
    """The prompt box. Its limit (`PROMPT_MAX_LENGTH`) goes to app.js, which shows a character
    count under it, and never into `maxlength`, with which the browser would silently cut a
    pasted prompt: the form refuses an over-long prompt with a message, keeping the text."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"rows": 4, **(attrs or {})})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        limit = settings.PROMPT_MAX_LENGTH
        # app.js puts the count (and how many too many) in place of {count} and {over}.
        context["widget"]["attrs"].update(
            {
                "data-max-chars": limit,
                "data-count-text": _("%(count)s of %(max)s characters") % {"count": "{count}", "max": limit},
                "data-over-text": _("%(count)s of %(max)s characters: %(over)s too many")
                % {"count": "{count}", "max": limit, "over": "{over}"},
            }
        )
        return context
