"""The prediction form, built from the chosen model's input schema.

Field names are the model's own input keys, so what a member types is what
DeerAPI receives; `services.prediction_input_clean` has the last word.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import catalog


class PredictionForm(forms.Form):
    model = forms.ChoiceField(label=_("Model"), choices=())

    def __init__(self, *args: Any, spec: catalog.ModelSpec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.fields["model"].choices = catalog.model_choices()
        self.fields["model"].initial = spec.id
        for item in spec.fields:
            self.fields[item.name] = _form_field(item)

    def input_data(self) -> dict[str, Any]:
        """The cleaned model inputs (everything but `model`)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "model"}

    def schema_fields(self) -> list[forms.BoundField]:
        return [self[item.name] for item in self.spec.fields if item.name != "prompt"]


# Labels of the catalog's input keys (the English is the key, humanised); a key
# missing here is shown humanised and untranslated.
LABELS = {
    "prompt": _("Prompt"),
    "aspect_ratio": _("Aspect ratio"),
    "num_outputs": _("Num outputs"),
    "megapixels": _("Megapixels"),
    "output_format": _("Output format"),
    "output_quality": _("Output quality"),
    "num_inference_steps": _("Num inference steps"),
    "go_fast": _("Go fast"),
    "disable_safety_checker": _("Disable safety checker"),
    "seed": _("Seed"),
    "width": _("Width"),
    "height": _("Height"),
    "safety_tolerance": _("Safety tolerance"),
    "prompt_upsampling": _("Prompt upsampling"),
}


def _label(name: str) -> str:
    return LABELS[name] if name in LABELS else name.replace("_", " ").capitalize()


def _form_field(item: catalog.InputField) -> forms.Field:
    common: dict[str, Any] = {
        "label": _label(item.name),
        "help_text": item.help,
        "required": item.required,
    }
    if item.kind == "text":
        return forms.CharField(
            max_length=settings.PROMPT_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 4}),
            **common,
        )
    if item.kind == "string":
        return forms.CharField(**common)
    if item.kind == "integer":
        return forms.IntegerField(
            min_value=item.minimum, max_value=item.maximum, initial=item.default, **common
        )
    if item.kind == "number":
        return forms.FloatField(
            min_value=item.minimum, max_value=item.maximum, initial=item.default,
            widget=forms.NumberInput(attrs={"step": "any"}), **common,
        )
    if item.kind == "boolean":
        common["required"] = False
        return forms.BooleanField(initial=bool(item.default), **common)
    if item.kind == "enum":
        common["required"] = True
        return forms.ChoiceField(
            choices=[(choice, choice) for choice in item.choices], initial=item.default, **common
        )
    if item.kind == "uri":
        return forms.URLField(assume_scheme="https", **common)
    if item.kind == "uri_list":
        return URLListField(max_items=item.max_items, **common)
    raise ValueError(f"unsupported field kind {item.kind}")


class URLListField(forms.CharField):
    """One URL per line, sent as a list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *, max_items: int | None = None, **kwargs: Any) -> None:
        self.max_items = max_items
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if self.max_items is not None and len(value) > self.max_items:
            raise forms.ValidationError(
                _("At most %(n)d images."), code="max_items", params={"n": self.max_items}
            )
        url = forms.URLField(assume_scheme="https")
        for line in value:
            url.clean(line)
