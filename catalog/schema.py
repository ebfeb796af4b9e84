"""Models added from the admin: their input JSON Schema turned into DeerWeb's fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Lazy: importing this module needs no settings; help texts are translated when shown.
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    pass


from catalog.inputs import FieldKind, InputField

# --- Models added from the admin: JSON Schema → fields ----------------------------------------


class SchemaError(ValueError):
    """A JSON Schema DeerWeb cannot turn into a form; `messages` says why, one line each."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def fields_from_json_schema(schema: object) -> tuple[InputField, ...]:
    """The fields of a model added by id, from its input JSON Schema.

    Understood: string (with `enum`, or `format: uri` for an image), integer and
    number (`minimum`/`maximum`), boolean, and arrays of URI strings (`maxItems`),
    each with `default` and `description`; `prompt` first, then by `x-order`.
    A string `prompt` is required: every DeerWeb prediction has one.
    """
    errors: list[str] = []
    if not isinstance(schema, dict):
        raise SchemaError([str(_("The schema must be a JSON object."))])
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        raise SchemaError([str(_("The schema needs a non-empty “properties” object."))])
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        errors.append(str(_("“required” must be a list of property names.")))
        required = []
    for name in required:
        if name not in properties:
            errors.append(str(_("“%(name)s” is required but not in “properties”.") % {"name": name}))

    # PostgreSQL does not keep a JSON object's key order: prompt first, then `x-order`, then by name.
    def order(item: tuple[str, Any]) -> tuple[int, float, str]:
        name, prop = item
        rank = prop.get("x-order") if isinstance(prop, dict) else None
        rank = rank if isinstance(rank, int | float) and not isinstance(rank, bool) else float("inf")
        return (0 if name == "prompt" else 1, rank, name)

    ordered = sorted(properties.items(), key=order)
    fields: list[InputField] = []
    for name, prop in ordered:
        try:
            fields.append(_field_from_property(name, prop, name in required))
        except SchemaError as exc:
            errors.extend(exc.messages)
    prompt = next((item for item in fields if item.name == "prompt"), None)
    if prompt is None or prompt.kind not in ("string", "text"):
        errors.append(str(_("The schema needs a string property “prompt”.")))
    if errors:
        raise SchemaError(errors)
    return tuple(fields)


def _field_from_property(name: str, prop: object, required: bool) -> InputField:
    def fail(message: str) -> SchemaError:
        return SchemaError([f"{name}: {message}"])

    if not name.isidentifier():
        raise fail(str(_("property names must be letters, digits and underscores.")))
    if not isinstance(prop, dict):
        raise fail(str(_("must be a JSON object.")))
    kind_name = prop.get("type")
    default = prop.get("default")
    help_text = str(prop.get("description") or "")[:300]
    if "enum" in prop:
        choices = prop["enum"]
        if not isinstance(choices, list) or not choices or not all(isinstance(c, str | int | float) for c in choices):
            raise fail(str(_("“enum” must be a non-empty list of strings or numbers.")))
        values = tuple(str(c) for c in choices)
        if default is not None and str(default) not in values:
            raise fail(str(_("the default is not one of the “enum” values.")))
        return InputField(
            name, "enum", None if default is None else str(default), values, help=help_text, required=required
        )
    if kind_name == "string":
        if default is not None and not isinstance(default, str):
            raise fail(str(_("the default must be a string.")))
        if prop.get("format") == "uri":
            return InputField(name, "uri", help=help_text, required=required)
        return InputField(name, "text" if name == "prompt" else "string", default, help=help_text, required=required)
    if kind_name in ("integer", "number"):
        bounds: dict[str, float | None] = {}
        for key in ("minimum", "maximum"):
            value = prop.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise fail(str(_("“%(key)s” must be a number.") % {"key": key}))
            bounds[key] = value
        if default is not None and (isinstance(default, bool) or not isinstance(default, int | float)):
            raise fail(str(_("the default must be a number.")))
        if kind_name == "integer" and isinstance(default, float) and not default.is_integer():
            raise fail(str(_("the default must be a whole number.")))
        kind: FieldKind = "integer" if kind_name == "integer" else "number"
        return InputField(
            name, kind, default, minimum=bounds["minimum"], maximum=bounds["maximum"], help=help_text, required=required
        )
    if kind_name == "boolean":
        if default is not None and not isinstance(default, bool):
            raise fail(str(_("the default must be true or false.")))
        return InputField(name, "boolean", bool(default), help=help_text, required=required)
    if kind_name == "array":
        items = prop.get("items")
        if not isinstance(items, dict) or items.get("type") != "string" or items.get("format") != "uri":
            raise fail(str(_("only arrays of URI strings (images) are supported.")))
        max_items = prop.get("maxItems")
        if max_items is not None and (isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1):
            raise fail(str(_("“maxItems” must be a positive whole number.")))
        return InputField(name, "uri_list", max_items=max_items, help=help_text, required=required)
    raise fail(
        str(_("unsupported type %(type)s; use string, integer, number, boolean or array.") % {"type": repr(kind_name)})
    )
