"""The model catalog: every DeerAPI model with a schema, a price and an output shape, and the
simulator answering each one in that shape; and models added by JSON Schema."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal

import pytest
import requests

from catalog import specs as catalog
from catalog.inputs import ModelSpec
from catalog.schema import SchemaError, fields_from_json_schema
from deerapi.client import DeerAPIClient
from tests.world import ROOT

# The 28 ids DeerAPI lists for its Replicate-style endpoint (deerapi-api.md §1.2).
DEERAPI_IDS = [
    *(
        f"black-forest-labs/{name}"
        for name in (
            "flux-1.1-pro",
            "flux-1.1-pro-ultra",
            "flux-2-dev",
            "flux-2-flex",
            "flux-2-max",
            "flux-2-pro",
            "flux-dev",
            "flux-kontext-max",
            "flux-kontext-pro",
            "flux-pro",
            "flux-schnell",
        )
    ),
    "dreamshaper-8-lcm",
    *(
        f"ideogram-ai/{name}"
        for name in (
            "ideogram-v2",
            "ideogram-v2-turbo",
            "ideogram-v2a",
            "ideogram-v3-balanced",
            "ideogram-v3-quality",
            "ideogram-v3-turbo",
        )
    ),
    "recraft-ai/recraft-v3",
    "recraft-ai/recraft-v3-svg",
    "recraft-api",
    "recraftv3",
    *(
        f"stability-ai/{name}"
        for name in (
            "sdxl",
            "stable-diffusion",
            "stable-diffusion-3",
            "stable-diffusion-3.5-large",
            "stable-diffusion-3.5-large-turbo",
            "stable-diffusion-3.5-medium",
        )
    ),
]
LIST_MODELS = {
    "black-forest-labs/flux-schnell",
    "black-forest-labs/flux-dev",
    "stability-ai/sdxl",
    "stability-ai/stable-diffusion",
}
UNDOCUMENTED = {
    "dreamshaper-8-lcm",
    "recraft-api",
    "recraftv3",
    "stability-ai/stable-diffusion",
    "stability-ai/stable-diffusion-3",
}


def test_the_catalog_holds_exactly_the_28_models_deerapi_lists():
    assert len(DEERAPI_IDS) == 28
    assert sorted(catalog.MODELS) == sorted(DEERAPI_IDS)


@pytest.mark.parametrize("model_id", DEERAPI_IDS)
def test_every_model_has_a_name_vendor_prompt_price_and_output_shape(model_id):
    spec = catalog.get_model(model_id)
    assert spec.name and spec.vendor
    prompt = spec.field("prompt")
    assert prompt is not None and prompt.required and prompt.kind == "text"
    assert isinstance(spec.price, Decimal) and spec.price > 0
    assert spec.output == ("svg" if model_id.endswith("-svg") else "list" if model_id in LIST_MODELS else "single")
    assert spec.documented is (model_id not in UNDOCUMENTED)
    names = [item.name for item in spec.fields]
    assert len(names) == len(set(names)), "an input appears twice"
    for item in spec.fields:
        if item.kind == "enum":
            assert item.choices and (item.default is None or item.default in item.choices), item.name
        if item.minimum is not None and item.maximum is not None:
            assert item.minimum <= item.maximum
        if item.default is not None and item.kind in ("integer", "number"):
            assert (item.minimum is None or item.default >= item.minimum) and (
                item.maximum is None or item.default <= item.maximum
            ), item.name
        assert str(item.help), f"{model_id} {item.name} has no help text"


def test_models_sharing_a_documented_schema_share_one_definition():
    fields = {model_id: spec.fields for model_id, spec in catalog.MODELS.items()}
    bfl = "black-forest-labs/"
    assert fields[bfl + "flux-kontext-pro"] is fields[bfl + "flux-kontext-max"]
    assert fields[bfl + "flux-2-pro"] is fields[bfl + "flux-2-max"]
    ideogram = "ideogram-ai/ideogram-"
    assert fields[ideogram + "v3-turbo"] is fields[ideogram + "v3-balanced"] is fields[ideogram + "v3-quality"]
    assert fields[ideogram + "v2"] is fields[ideogram + "v2-turbo"]
    sd = "stability-ai/stable-diffusion-3.5-"
    assert fields[sd + "large"] is fields[sd + "medium"]
    assert fields["recraft-api"] is fields["recraftv3"] is fields["dreamshaper-8-lcm"]


def test_the_documented_details_that_differ_within_a_family_are_kept():
    get = catalog.get_model
    assert get("black-forest-labs/flux-2-flex").field("input_images").max_items == 10
    assert get("black-forest-labs/flux-2-pro").field("input_images").max_items == 8
    assert get("black-forest-labs/flux-2-dev").field("input_images").max_items == 4
    assert get("black-forest-labs/flux-2-flex").field("prompt_upsampling").default is True
    assert get("stability-ai/stable-diffusion-3.5-large-turbo").field("cfg").default == 1
    assert get("stability-ai/stable-diffusion-3.5-large").field("cfg").default == 5
    kontext = get("black-forest-labs/flux-kontext-pro")
    assert kontext.field("input_image").kind == "uri"
    assert kontext.field("output_format").choices == ("jpg", "png")
    assert kontext.field("safety_tolerance").minimum == 0
    v3, v2 = get("ideogram-ai/ideogram-v3-turbo"), get("ideogram-ai/ideogram-v2")
    assert len(v3.field("resolution").choices) == 70 and "800x1280" in v3.field("resolution").choices
    assert len(v2.field("resolution").choices) == 69 and "800x1280" not in v2.field("resolution").choices
    assert len(v3.field("style_preset").choices) == 63
    assert get("ideogram-ai/ideogram-v2a").field("negative_prompt") is None
    assert get("recraft-ai/recraft-v3").field("seed") is None
    assert get("recraft-ai/recraft-v3-svg").field("style").choices == (
        "any",
        "engraving",
        "line_art",
        "line_circuit",
        "linocut",
    )
    assert get("black-forest-labs/flux-1.1-pro-ultra").field("output_format").default == "jpg"


def test_estimated_prices_say_how_they_are_estimated():
    for name in ("flux-2-pro", "flux-2-max", "flux-2-flex", "flux-2-dev"):
        assert "megapixel" in str(catalog.get_model(f"black-forest-labs/{name}").price_note)
    assert "GPU time" in str(catalog.get_model("stability-ai/sdxl").price_note)
    assert catalog.get_model("stability-ai/stable-diffusion-3.5-large").price == Decimal("0.065")


def test_undocumented_models_offer_only_the_prompt_and_a_justified_seed():
    for model_id in UNDOCUMENTED:
        names = catalog.get_model(model_id).input_names
        assert names <= {"prompt", "seed"}
        assert ("seed" in names) is model_id.startswith("stability-ai/")


def test_the_catalog_imports_without_django_settings():
    code = "import catalog.specs as c; assert len(c.MODELS) == 28; print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
        timeout=60,
    )
    assert result.stdout.strip() == "ok", result.stderr


def _minimal_input(spec: ModelSpec) -> dict:
    return {"prompt": f"a deer, drawn by {spec.name}"}


def test_the_simulator_answers_every_model_in_its_output_shape(simulator, settings):
    api = DeerAPIClient(base_url=simulator.url, key=settings.DEERAPI_KEY)
    created = {spec.id: api.create_prediction(spec.id, _minimal_input(spec)).id for spec in catalog.MODELS.values()}
    deadline = time.monotonic() + 20
    raw: dict[str, dict] = {}
    while len(raw) < len(created) and time.monotonic() < deadline:
        for model_id, prediction_id in created.items():
            if model_id not in raw:
                data = requests.get(
                    f"{simulator.url}/replicate/v1/predictions/{prediction_id}",
                    headers={"Authorization": f"Bearer {settings.DEERAPI_KEY}"},
                    timeout=5,
                ).json()
                if data["status"] == "succeeded":
                    raw[model_id] = data
        time.sleep(0.1)
    assert set(raw) == set(created), f"not finished: {set(created) - set(raw)}"
    for model_id, data in raw.items():
        spec = catalog.get_model(model_id)
        if spec.output == "list":
            assert isinstance(data["output"], list) and len(data["output"]) == 1, model_id
        else:
            assert isinstance(data["output"], str), model_id
        url = data["output"][0] if isinstance(data["output"], list) else data["output"]
        extension = url.rsplit(".", 1)[1]
        assert extension == ("svg" if spec.output == "svg" else spec.default_output_format.replace("jpeg", "jpg"))
    svg = requests.get(raw["recraft-ai/recraft-v3-svg"]["output"], timeout=5)
    assert svg.headers["Content-Type"] == "image/svg+xml"


def test_the_simulator_answers_num_outputs_images_where_the_model_takes_it(simulator, settings):
    api = DeerAPIClient(base_url=simulator.url, key=settings.DEERAPI_KEY)
    for model_id in ("black-forest-labs/flux-dev", "stability-ai/sdxl"):
        prediction = api.create_prediction(model_id, {"prompt": "two deer", "num_outputs": 3})
        deadline = time.monotonic() + 10
        while (remote := api.get_prediction(prediction.id)).status != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(remote.output) == 3, model_id


# --- Models added by id: JSON Schema → fields ----------------------------------------------------

SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "seed": {"type": "integer", "minimum": 0, "x-order": 5},
        "prompt": {"type": "string", "description": "What to draw", "x-order": 0},
        "style": {"type": "string", "enum": ["flat", "photo"], "default": "flat", "x-order": 1},
        "strength": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5, "x-order": 2},
        "hdr": {"type": "boolean", "default": True, "x-order": 3},
        "reference": {"type": "string", "format": "uri", "x-order": 4},
        "references": {"type": "array", "items": {"type": "string", "format": "uri"}, "maxItems": 3},
        "caption": {"type": "string", "default": ""},
    },
}


def test_a_json_schema_becomes_fields_of_every_kind_prompt_first_then_in_x_order():
    fields = fields_from_json_schema(SCHEMA)
    assert [(f.name, f.kind) for f in fields] == [
        ("prompt", "text"),
        ("style", "enum"),
        ("strength", "number"),
        ("hdr", "boolean"),
        ("reference", "uri"),
        ("seed", "integer"),
        ("caption", "string"),
        ("references", "uri_list"),
    ]
    by_name = {f.name: f for f in fields}
    assert by_name["prompt"].required and by_name["prompt"].help == "What to draw"
    assert by_name["style"].choices == ("flat", "photo") and by_name["style"].default == "flat"
    assert (by_name["strength"].minimum, by_name["strength"].maximum, by_name["strength"].default) == (0, 1, 0.5)
    assert by_name["hdr"].default is True
    assert by_name["references"].max_items == 3
    assert by_name["seed"].minimum == 0 and not by_name["seed"].required


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ([], "JSON object"),
        ({"properties": {}}, "non-empty"),
        ({"properties": {"text": {"type": "string"}}}, "prompt"),
        ({"properties": {"prompt": {"type": "integer"}}}, "prompt"),
        ({"properties": {"prompt": {"type": "string"}}, "required": ["prompt", "ghost"]}, "ghost"),
        ({"properties": {"prompt": {"type": "string"}, "n": {"type": "object"}}}, "n: unsupported type"),
        ({"properties": {"prompt": {"type": "string"}, "n": {"type": "integer", "minimum": "low"}}}, "minimum"),
        (
            {"properties": {"prompt": {"type": "string"}, "s": {"type": "string", "enum": ["a"], "default": "b"}}},
            "default",
        ),
        ({"properties": {"prompt": {"type": "string"}, "l": {"type": "array", "items": {"type": "integer"}}}}, "URI"),
        ({"properties": {"prompt": {"type": "string"}, "bad name": {"type": "string"}}}, "letters"),
    ],
)
def test_a_json_schema_deerweb_cannot_use_is_refused_with_a_message(schema, expected):
    with pytest.raises(SchemaError) as exc:
        fields_from_json_schema(schema)
    assert any(expected in message for message in exc.value.messages), exc.value.messages
