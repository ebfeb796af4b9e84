"""Forms for predictions: the one built from a model's input schema, history filters,
Compare, the prompt library, and the admin's model settings.

Field names of the prediction form are the model's own input keys, so what a
member types is what DeerAPI receives; `services.prediction_input_clean` has the
last word.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator, URLValidator
from django.forms.utils import ErrorDict
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from catalog.inputs import RESERVED_NAMES, InputField, ModelSpec
from common.widgets import IsoDateField, PlainSelect, PromptTextarea, choice_field
from predictions import services, uploads
from predictions.models import Status

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def model_choices(models: list[ModelSpec]) -> list[tuple[str, list[tuple[str, StrOrPromise]]]]:
    """Choices grouped by vendor (rendered as <optgroup>), each with its price per image."""
    groups: dict[str, list[tuple[str, StrOrPromise]]] = {}
    for spec in models:
        label = _("%(name)s · $%(price)s per image") % {"name": spec.name, "price": spec.price_text}
        groups.setdefault(spec.vendor, []).append((spec.id, label))
    return list(groups.items())


# --- Image inputs: a URL or an upload under the model's input key ----------------------------


class ImageInputWidget(forms.Widget):
    """A URL box (one per line when several) and a file picker, both named after the input key.

    The URL arrives in POST and the files in FILES, so one name carries both. A browser
    sends an empty picker as an empty part with no file name, which Django's parser files
    under POST next to the URL: only the non-blank texts are URLs.
    """

    template_name = "predictions/widgets/image_input.html"

    def __init__(self, *, multiple: bool = False, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.multiple = multiple

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, Any]:
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        urls = "\n".join(value for value in values if isinstance(value, str) and value.strip())
        if self.multiple:
            return {"urls": urls, "files": files.getlist(name) if files else []}
        return {"url": urls, "file": files.get(name) if files else None}

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False

    def format_value(self, value: Any) -> str:
        if isinstance(value, dict):
            value = value.get("urls", value.get("url", ""))
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value if isinstance(item, str))
        return value if isinstance(value, str) else ""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["multiple"] = self.multiple
        context["widget"]["accept"] = ",".join(content_type for content_type, _ext in uploads.FORMATS.values())
        return context

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        # The project's template engine (templates/), which Django's form renderer does not search.
        return mark_safe(render_to_string(self.template_name, self.get_context(name, value, attrs)))  # noqa: S308


class ImageInputField(forms.Field):
    """Cleans to a URL string or an `uploads.CheckedImage` (a list of them when `multiple`).

    One image is a URL or an upload: given both, the member is asked to choose. Several
    images are the URLs, one per line, followed by the uploads.
    """

    def __init__(self, *, multiple: bool = False, max_items: int | None = None, **kwargs: Any) -> None:
        self.multiple = multiple
        self.max_items = max_items
        kwargs.setdefault("widget", ImageInputWidget(multiple=multiple))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        value = value if isinstance(value, dict) else {}
        if self.multiple:
            urls = [line.strip() for line in str(value.get("urls") or "").splitlines() if line.strip()]
            files = [upload for upload in value.get("files") or [] if upload]
            if self.required and not urls and not files:
                raise ValidationError(self.error_messages["required"], code="required")
            if self.max_items is not None and len(urls) + len(files) > self.max_items:
                raise ValidationError(_("At most %(n)d images."), code="max_items", params={"n": self.max_items})
            return [_clean_url(url) for url in urls] + [uploads.image_check(upload) for upload in files]
        upload = value.get("file")
        url = str(value.get("url") or "").strip()
        if upload and url:
            raise ValidationError(_("Give either an image URL or an upload, not both."), code="url_and_upload")
        if upload:
            return uploads.image_check(upload)
        if not url:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        return _clean_url(url)


def _clean_url(url: str) -> str:
    # A data: URL comes back when "Edit and run" reuses a small upload.
    if url.startswith("data:image/") and ";base64," in url:
        return url
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(_("Enter an http(s) URL of an image, or upload one."), code="invalid") from None
    return url


# --- The prediction form --------------------------------------------------------------------


class PredictionForm(forms.Form):
    # Django's own error store, which `add_input_errors` fills in; the stubs do not declare it.
    _errors: ErrorDict | None

    model = forms.ChoiceField(label=_("Model"), choices=(), widget=PlainSelect)
    # The member's prompt this form started from (library, "Edit and run"): the new
    # prediction links to it while its text is unchanged.
    prompt_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # The prediction "Edit and run" started from.
    source = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, spec: ModelSpec, models: list[ModelSpec], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        choice_field(self, "model").choices = model_choices(models)
        self.fields["model"].initial = spec.id
        for item in spec.fields:
            self.fields[item.name] = input_form_field(item)

    def input_data(self) -> dict[str, Any]:
        """The cleaned model inputs; uploads are still `CheckedImage`s (see uploads.input_values_store)."""
        return {item.name: self.cleaned_data.get(item.name) for item in self.spec.fields}

    def schema_fields(self) -> list[forms.BoundField]:
        return [self[item.name] for item in self.spec.fields if item.name != "prompt"]

    def add_input_errors(self, errors: dict[str, str]) -> None:
        """Show per-input messages (ours or DeerAPI's 422) next to their fields.

        Works on an unbound form too ("Edit and run" of a refused prediction):
        there Django keeps no errors, so they are set directly.
        """
        if self._errors is None or not self.is_bound:
            self._errors = ErrorDict()
        for key, message in errors.items():
            # DeerAPI names list items "input_images.0"; the field is "input_images".
            name = str(key).split(".", 1)[0]
            if name in self.fields and name not in RESERVED_NAMES - {"model"}:
                target, text = name, message
                error_list = self.error_class(renderer=self.renderer, field_id=self[name].auto_id)
            else:
                target, text = NON_FIELD_ERRORS, message if name == "model" else f"{key}: {message}"
                error_list = self.error_class(error_class="nonfield", renderer=self.renderer)
            self._errors.setdefault(target, error_list)
            if text not in self._errors[target]:
                self._errors[target].append(text)


# Labels of the catalog's input keys (the English is the key, humanised); a key
# missing here (an admin-added model's) is shown humanised and untranslated.
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
    "image": _("Image"),
    "prompt_strength": _("Prompt strength"),
    "guidance": _("Guidance"),
    "image_prompt": _("Image prompt"),
    "steps": _("Steps"),
    "interval": _("Interval"),
    "raw": _("Raw"),
    "image_prompt_strength": _("Image prompt strength"),
    "input_image": _("Input image"),
    "input_images": _("Input images"),
    "resolution": _("Resolution"),
    "magic_prompt_option": _("Magic prompt option"),
    "style_type": _("Style type"),
    "style_preset": _("Style preset"),
    "style_reference_images": _("Style reference images"),
    "mask": _("Mask"),
    "negative_prompt": _("Negative prompt"),
    "size": _("Size"),
    "style": _("Style"),
    "scheduler": _("Scheduler"),
    "guidance_scale": _("Guidance scale"),
    "refine": _("Refine"),
    "refine_steps": _("Refine steps"),
    "high_noise_frac": _("High noise frac"),
    "lora_scale": _("Lora scale"),
    "replicate_weights": _("Replicate weights"),
    "apply_watermark": _("Apply watermark"),
    "cfg": _("Cfg"),
}


def _label(name: str) -> StrOrPromise:
    return LABELS[name] if name in LABELS else name.replace("_", " ").capitalize()


def input_form_field(item: InputField) -> forms.Field:
    """The widget a model input gets: select, number with bounds, checkbox, text, or URL/upload."""
    common: dict[str, Any] = {
        "label": _label(item.name),
        "help_text": item.help,
        "required": item.required,
    }
    if item.kind == "text":
        return forms.CharField(
            initial=item.default,
            widget=PromptTextarea,
            validators=[MaxLengthValidator(settings.PROMPT_MAX_LENGTH)],
            **common,
        )
    if item.kind == "string":
        return forms.CharField(max_length=2000, initial=item.default, **common)
    if item.kind == "integer":
        return forms.IntegerField(
            min_value=_whole_bound(item.minimum, math.ceil),
            max_value=_whole_bound(item.maximum, math.floor),
            initial=item.default,
            **common,
        )
    if item.kind == "number":
        return forms.FloatField(
            min_value=item.minimum,
            max_value=item.maximum,
            initial=item.default,
            widget=forms.NumberInput(attrs={"step": "any"}),
            **common,
        )
    if item.kind == "boolean":
        common["required"] = False
        return forms.BooleanField(initial=bool(item.default), **common)
    if item.kind == "enum":
        choices = [(choice, choice) for choice in item.choices]
        if item.default is None:
            # No default: the member may leave it unset and DeerAPI decides.
            choices.insert(0, ("", "—"))
        return forms.ChoiceField(choices=choices, initial=item.default, widget=PlainSelect, **common)
    if item.kind == "uri":
        return ImageInputField(**common)
    if item.kind == "uri_list":
        return ImageInputField(multiple=True, max_items=item.max_items, **common)
    raise ValueError(f"unsupported field kind {item.kind}")


def _whole_bound(bound: float | None, to_whole: Callable[[float], int]) -> int | None:
    """An integer input's bound as the whole number it admits (a schema's minimum 0.5 admits 1 and up).
    One that is not a finite number (Python's JSON parser reads NaN and Infinity) is left out."""
    return to_whole(bound) if bound is not None and math.isfinite(bound) else None


def initial_from_input(spec: ModelSpec, data: dict[str, Any]) -> dict[str, Any]:
    """Form initial values from a prediction's input ("Edit and run"): only keys the model takes."""
    return {name: value for name, value in data.items() if name in spec.input_names}


# --- History filters ---------------------------------------------------------------------------

VIEWS = (("list", _("List")), ("grid", _("Grid")))


class HistoryFilterForm(forms.Form):
    """The history's filters, all in the query string: q, status, model, from, to, view."""

    q = forms.CharField(label=_("Prompt contains"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False, widget=PlainSelect)
    model = forms.ChoiceField(label=_("Model"), required=False, widget=PlainSelect)
    view = forms.ChoiceField(choices=VIEWS, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, models: list[ModelSpec], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "status").choices = [("", _("Any status")), *Status.choices]
        choice_field(self, "model").choices = [("", _("Any model")), *((spec.id, spec.name) for spec in models)]
        self.fields["from"] = IsoDateField(label=_("From"), required=False)
        self.fields["to"] = IsoDateField(label=_("To"), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        since, until = data.get("from"), data.get("to")
        if since and until and since > until:
            self.add_error("to", _("“To” must not be before “From”."))
        return data

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for `selectors.prediction_history` (none when the form is invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"],
            "model_id": data["model"],
            "since": data["from"],
            "until": data["to"],
            "search": data["q"].strip(),
        }

    @property
    def layout(self) -> str:
        """ "list" or "grid"."""
        return (self.cleaned_data.get("view") if self.is_valid() else "") or "list"


# --- Compare -------------------------------------------------------------------------------------


class CompareForm(forms.Form):
    prompt = forms.CharField(
        label=_("Prompt"),
        widget=PromptTextarea,
        help_text=_("Every model gets this prompt and its own default options."),
    )
    models = forms.MultipleChoiceField(
        label=_("Models"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose 2 to 4 models."),
    )
    prompt_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, models: list[ModelSpec], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prompt"].validators.append(MaxLengthValidator(settings.PROMPT_MAX_LENGTH))
        choice_field(self, "models").choices = model_choices(models)

    def clean_models(self) -> list[str]:
        chosen = self.cleaned_data["models"]
        low, high = services.COMPARE_MIN_MODELS, services.COMPARE_MAX_MODELS
        if not low <= len(chosen) <= high:
            raise ValidationError(
                _("Choose between %(min)d and %(max)d models."), code="count", params={"min": low, "max": high}
            )
        return chosen


# --- Prompt library -------------------------------------------------------------------------------


class PromptSaveForm(forms.Form):
    """Save a prompt under a name: new text from the library, or a prediction's prompt."""

    name = forms.CharField(label=_("Name"), max_length=120)
    text = forms.CharField(label=_("Prompt"), required=False, widget=PromptTextarea)
    prediction = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].validators.append(MaxLengthValidator(settings.PROMPT_MAX_LENGTH))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("prediction") and not (data.get("text") or "").strip():
            self.add_error("text", _("This field is required."))
        return data


class PromptRenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
