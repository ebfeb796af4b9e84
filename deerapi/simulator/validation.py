"""Input validation the way Replicate answers it: 422 problem+json with `invalid_fields`.

Driven only by the catalog's `InputField` kinds, so a new model needs no code here.
The `type` values follow Replicate's validator (gojsonschema names), except that a
wrong JSON type is reported as `type`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from catalog.inputs import InputField, ModelSpec

EXPECTED_TYPES = {
    "string": "string",
    "text": "string",
    "enum": "string",
    "uri": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "uri_list": "array",
}


@dataclass(frozen=True)
class InvalidField:
    type: str
    field: str
    description: str

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "field": self.field, "description": self.description}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def is_file_url(value: Any) -> bool:
    """Replicate takes files as http(s) URLs or data: URLs."""
    if not isinstance(value, str):
        return False
    if value.startswith("data:"):
        return "," in value
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _has_type(item: InputField, value: Any) -> bool:
    expected = EXPECTED_TYPES[item.kind]
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    return isinstance(value, list)


def _check_field(item: InputField, value: Any) -> list[InvalidField]:
    where = f"input.{item.name}"
    if not _has_type(item, value):
        expected = EXPECTED_TYPES[item.kind]
        return [InvalidField("type", where, f"Invalid type. Expected: {expected}, given: {json_type(value)}")]
    if item.kind == "enum" and item.choices and value not in item.choices:
        allowed = ", ".join(json.dumps(choice) for choice in item.choices)
        return [InvalidField("enum", where, f"{item.name} must be one of the following: {allowed}")]
    problems: list[InvalidField] = []
    if item.kind in ("integer", "number"):
        if item.minimum is not None and value < item.minimum:
            problems.append(
                InvalidField(
                    "number_gte",
                    where,
                    f"Must be greater than or equal to {_number(item.minimum)}",
                )
            )
        if item.maximum is not None and value > item.maximum:
            problems.append(InvalidField("number_lte", where, f"Must be less than or equal to {_number(item.maximum)}"))
    elif item.kind == "uri" and not is_file_url(value):
        problems.append(InvalidField("format", where, "Does not match format 'uri' (http, https or data:)"))
    elif item.kind == "uri_list":
        if item.max_items is not None and len(value) > item.max_items:
            problems.append(
                InvalidField(
                    "array_max_items",
                    where,
                    f"Array must have at most {item.max_items} items",
                )
            )
        for index, element in enumerate(value):
            if not is_file_url(element):
                problems.append(
                    InvalidField(
                        "format",
                        f"{where}.{index}",
                        "Does not match format 'uri' (http, https or data:)",
                    )
                )
    return problems


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def validate_input(spec: ModelSpec, data: dict[str, Any]) -> list[InvalidField]:
    """Every problem with `data` as the input of `spec`; empty when it is valid.

    Like Replicate, an explicit null is a wrong type, not "use the default".
    """
    problems: list[InvalidField] = []
    for name, value in data.items():
        item = spec.field(name)
        if item is None:
            problems.append(
                InvalidField(
                    "additional_property_not_allowed",
                    f"input.{name}",
                    f"Additional property {name} is not allowed",
                )
            )
            continue
        problems.extend(_check_field(item, value))
    for item in spec.fields:
        if item.required and item.name not in data:
            problems.append(InvalidField("required", f"input.{item.name}", f"{item.name} is required"))
    return problems


def problem_body(problems: list[InvalidField]) -> dict[str, Any]:
    """The 422 problem+json document Replicate sends for `problems`."""
    detail = "".join(f"- {p.field}: {p.description}\n" for p in problems)
    return {
        "title": "Input validation failed",
        "status": 422,
        "detail": detail,
        "invalid_fields": [p.as_dict() for p in problems],
    }
