"""Models as Replicate's API describes them, with their input as an OpenAPI schema
(`latest_version.openapi_schema`), so clients can introspect what a model takes."""

from __future__ import annotations

import hashlib
from typing import Any

from catalog.inputs import InputField, ModelSpec

# A version's date: DeerWeb runs DeerAPI's current version of every model and keeps no dates of
# versions; the clients require one, so this is the date of the catalog's schemas.
CATALOG_DATE = "2026-12-01T00:00:00Z"

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "text": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "enum": {"type": "string"},
    "uri": {"type": "string", "format": "uri"},
    "uri_list": {"type": "array", "items": {"type": "string", "format": "uri"}},
}


def input_property(field: InputField, order: int) -> dict[str, Any]:
    prop: dict[str, Any] = {"title": field.name.replace("_", " ").capitalize(), "x-order": order, **_TYPES[field.kind]}
    if field.help:
        prop["description"] = str(field.help)
    if field.choices:
        prop["enum"] = list(field.choices)
    if field.default is not None:
        prop["default"] = field.default
    if field.minimum is not None:
        prop["minimum"] = field.minimum
    if field.maximum is not None:
        prop["maximum"] = field.maximum
    if field.max_items is not None and field.kind == "uri_list":
        prop["maxItems"] = field.max_items
    return prop


def input_schema(spec: ModelSpec) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "title": "Input",
        "properties": {field.name: input_property(field, i) for i, field in enumerate(spec.fields)},
    }
    required = [field.name for field in spec.fields if field.required]
    if required:
        schema["required"] = required
    return schema


def output_schema(spec: ModelSpec) -> dict[str, Any]:
    uri = {"type": "string", "format": "uri"}
    if spec.output == "list":
        return {"type": "array", "title": "Output", "items": uri}
    return {"title": "Output", **uri}


def version_id(model_id: str) -> str:
    """The id of the one version DeerWeb offers of a model (it runs DeerAPI's current one):
    64 hex digits, as Replicate's, made from the model id, so `owner/name:<id>` and a bare
    `version: <id>` both name the model."""
    return hashlib.sha256(f"deerweb-model:{model_id}".encode()).hexdigest()


def version_as_replicate(spec: ModelSpec) -> dict[str, Any]:
    return {
        "id": version_id(spec.id),
        "created_at": CATALOG_DATE,
        "cog_version": "",
        "openapi_schema": {
            "openapi": "3.0.2",
            "info": {"title": spec.name, "version": spec.id},
            "paths": {},
            "components": {"schemas": {"Input": input_schema(spec), "Output": output_schema(spec)}},
        },
    }


def model_as_replicate(spec: ModelSpec, base_url: str) -> dict[str, Any]:
    owner, _, name = spec.id.rpartition("/")
    return {
        "url": f"{base_url}/replicate/v1/models/{spec.id}",
        "owner": owner,
        "name": name,
        "description": f"{spec.name} ({spec.vendor}), ${spec.price_text} per image",
        "visibility": "public",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": 0,
        "cover_image_url": None,
        "default_example": None,
        "latest_version": version_as_replicate(spec),
    }
