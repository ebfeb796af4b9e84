"""The admin form of a model's settings, which checks a pasted input schema."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from catalog import specs as catalog
from catalog.inputs import RESERVED_NAMES
from catalog.models import ModelConfig
from catalog.schema import SchemaError, fields_from_json_schema

if TYPE_CHECKING:
    pass


class ModelConfigForm(forms.ModelForm):
    """Enable, disable or price a catalog model, or add a model by id with its JSON Schema."""

    class Meta:
        model = ModelConfig
        fields = ["model_id", "enabled", "price", "name", "vendor", "output_shape", "input_schema", "auto_approve"]

    def clean_model_id(self) -> str:
        model_id = self.cleaned_data["model_id"].strip()
        if not model_id or any(ch.isspace() for ch in model_id) or model_id.startswith("/") or ".." in model_id:
            raise ValidationError(_("Enter DeerAPI's model id, such as “owner/name”."), code="invalid")
        return model_id

    def clean_price(self) -> Decimal | None:
        price = self.cleaned_data.get("price")
        if price is not None and price < 0:
            raise ValidationError(_("A price cannot be negative."), code="negative")
        return price

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        model_id = data.get("model_id")
        if not model_id:
            return data
        schema = data.get("input_schema")
        if catalog.get_model(model_id) is not None:
            if schema:
                self.add_error(
                    "input_schema",
                    _("This model is in DeerWeb's catalog, which defines its inputs: leave the schema empty."),
                )
            return data
        if not schema:
            self.add_error("input_schema", _("A model that is not in the catalog needs its input schema."))
        else:
            try:
                fields = fields_from_json_schema(schema)
            except SchemaError as exc:
                self.add_error("input_schema", exc.messages)
            else:
                clashes = sorted(RESERVED_NAMES & {item.name for item in fields})
                if clashes:
                    self.add_error(
                        "input_schema",
                        _("These input names are reserved by DeerWeb: %(names)s.") % {"names": ", ".join(clashes)},
                    )
        if data.get("price") is None:
            self.add_error("price", _("A model that is not in the catalog needs a price per image."))
        return data
