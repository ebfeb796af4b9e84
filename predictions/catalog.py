"""The DeerAPI models DeerWeb offers, with each one's input schema.

Field names are the model's own input keys; they are sent to DeerAPI as they
are. Models that share a schema share one definition. Sources:
../shared/docs/deerapi-api.md §3 (schemas) and §4 (prices).

This module is plain Python (no database, no settings) so the simulator can use
it too; help texts are lazy translations, resolved only when a form shows them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

# Lazy: importing this module needs no settings; help texts are translated when shown.
from django.utils.translation import gettext_lazy as _

FieldKind = Literal["string", "text", "integer", "number", "boolean", "enum", "uri", "uri_list"]
OutputShape = Literal["single", "list", "svg"]


@dataclass(frozen=True)
class InputField:
    name: str
    kind: FieldKind
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    # A lazy translation: kept out of ==, hash and repr, which would need settings (and vary by language).
    help: str = dataclasses.field(default="", compare=False, repr=False)
    required: bool = False
    max_items: int | None = None


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    vendor: str
    fields: tuple[InputField, ...]
    output: OutputShape
    price: Decimal
    documented: bool = True

    def field(self, name: str) -> InputField | None:
        for item in self.fields:
            if item.name == name:
                return item
        return None

    @property
    def input_names(self) -> frozenset[str]:
        return frozenset(item.name for item in self.fields)

    @property
    def default_output_format(self) -> str:
        spec = self.field("output_format")
        if self.output == "svg":
            return "svg"
        return str(spec.default) if spec and spec.default else "png"


PROMPT = InputField("prompt", "text", required=True, help=_("What to generate."))
SEED = InputField(
    "seed", "integer", minimum=0, maximum=2147483647,
    help=_("Fix the seed to repeat a result; leave empty for a random one."),
)
FLUX_ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
PRO_ASPECT_RATIOS = ("1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3")
OUTPUT_FORMAT = InputField("output_format", "enum", "webp", ("webp", "jpg", "png"), help=_("Image file format."))
OUTPUT_QUALITY = InputField(
    "output_quality", "integer", 80, minimum=0, maximum=100,
    help=_("Compression quality for jpg and webp (ignored for png)."),
)

FLUX_SCHNELL = ModelSpec(
    id="black-forest-labs/flux-schnell",
    name="FLUX.1 [schnell]",
    vendor="Black Forest Labs",
    output="list",
    price=Decimal("0.003"),
    fields=(
        PROMPT,
        InputField("aspect_ratio", "enum", "1:1", FLUX_ASPECT_RATIOS, help=_("Shape of the image.")),
        InputField("num_outputs", "integer", 1, minimum=1, maximum=4, help=_("How many images.")),
        InputField("megapixels", "enum", "1", ("1", "0.25"), help=_("Approximate image size.")),
        OUTPUT_FORMAT,
        OUTPUT_QUALITY,
        InputField("num_inference_steps", "integer", 4, minimum=1, maximum=4, help=_("Denoising steps.")),
        InputField("go_fast", "boolean", True, help=_("Faster, not deterministic even with a seed.")),
        InputField("disable_safety_checker", "boolean", False, help=_("Turn off the safety checker.")),
        SEED,
    ),
)

FLUX_11_PRO = ModelSpec(
    id="black-forest-labs/flux-1.1-pro",
    name="FLUX1.1 [pro]",
    vendor="Black Forest Labs",
    output="single",
    price=Decimal("0.04"),
    fields=(
        PROMPT,
        InputField("aspect_ratio", "enum", "1:1", ("custom", *PRO_ASPECT_RATIOS), help=_("Shape of the image.")),
        InputField("width", "integer", None, minimum=256, maximum=1440, help=_("Only with aspect ratio “custom”.")),
        InputField("height", "integer", None, minimum=256, maximum=1440, help=_("Only with aspect ratio “custom”.")),
        InputField(
            "safety_tolerance", "integer", 2, minimum=1, maximum=6, help=_("1 is strictest, 6 most permissive.")
        ),
        InputField("prompt_upsampling", "boolean", False, help=_("Let the model expand the prompt.")),
        OUTPUT_FORMAT,
        OUTPUT_QUALITY,
        SEED,
    ),
)

MODELS: dict[str, ModelSpec] = {spec.id: spec for spec in (FLUX_SCHNELL, FLUX_11_PRO)}


def get_model(model_id: str) -> ModelSpec | None:
    return MODELS.get(model_id)


def model_choices() -> list[tuple[str, str]]:
    return [(spec.id, f"{spec.name} ({spec.vendor})") for spec in MODELS.values()]
