"""The DeerAPI models DeerWeb offers: each one's name, vendor, input fields (catalog.fields,
catalog.ideogram_recraft), output shape and price. Prices: ../shared/docs/deerapi-api.md §4.

This module is plain Python (no database, no settings) so the simulator can use
it too; help texts are lazy translations, resolved only when a form shows them.
Admin overrides (enabled, price) and models added from the admin live in
`ModelConfig`; `catalog.selectors.model_get` combines the two.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

# Lazy: importing this module needs no settings; help texts are translated when shown.
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


from catalog.fields import (
    FLUX2_DEV_FIELDS,
    FLUX2_FIELDS,
    FLUX2_FLEX_FIELDS,
    FLUX2_PRICE_NOTE,
    FLUX_11_PRO_FIELDS,
    FLUX_DEV_FIELDS,
    FLUX_PRO_FIELDS,
    FLUX_SCHNELL_FIELDS,
    FLUX_ULTRA_FIELDS,
    KONTEXT_FIELDS,
    PROMPT_AND_SEED_FIELDS,
    PROMPT_ONLY_FIELDS,
    SD35_FIELDS,
    SD35_TURBO_FIELDS,
    SDXL_FIELDS,
    UNDOCUMENTED_PRICE_NOTE,
)
from catalog.ideogram_recraft import (
    IDEOGRAM_V2_FIELDS,
    IDEOGRAM_V2A_FIELDS,
    IDEOGRAM_V3_FIELDS,
    RECRAFT_V3_FIELDS,
    RECRAFT_V3_SVG_FIELDS,
)
from catalog.inputs import InputField, ModelSpec, OutputShape

# --- The catalog -------------------------------------------------------------------------------

BFL = "Black Forest Labs"
IDEOGRAM = "Ideogram"
RECRAFT = "Recraft"
STABILITY = "Stability AI"


def _spec(
    model_id: str,
    name: str,
    vendor: str,
    fields: tuple[InputField, ...],
    output: OutputShape,
    price: str,
    *,
    documented: bool = True,
    price_note: StrOrPromise = "",
) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        name=name,
        vendor=vendor,
        fields=fields,
        output=output,
        price=Decimal(price),
        documented=documented,
        price_note=price_note,
    )


_SPECS = (
    _spec("black-forest-labs/flux-schnell", "FLUX.1 [schnell]", BFL, FLUX_SCHNELL_FIELDS, "list", "0.003"),
    _spec("black-forest-labs/flux-dev", "FLUX.1 [dev]", BFL, FLUX_DEV_FIELDS, "list", "0.025"),
    _spec("black-forest-labs/flux-1.1-pro", "FLUX1.1 [pro]", BFL, FLUX_11_PRO_FIELDS, "single", "0.04"),
    _spec("black-forest-labs/flux-pro", "FLUX.1 [pro]", BFL, FLUX_PRO_FIELDS, "single", "0.055"),
    _spec("black-forest-labs/flux-1.1-pro-ultra", "FLUX1.1 [pro] ultra", BFL, FLUX_ULTRA_FIELDS, "single", "0.06"),
    _spec("black-forest-labs/flux-kontext-pro", "FLUX.1 Kontext [pro]", BFL, KONTEXT_FIELDS, "single", "0.04"),
    _spec("black-forest-labs/flux-kontext-max", "FLUX.1 Kontext [max]", BFL, KONTEXT_FIELDS, "single", "0.08"),
    # FLUX.2 is billed per megapixel; prices are for 1 MP out, no input images
    # (BFL's own first-MP prices; Replicate's per-MP figures are unconfirmed).
    _spec(
        "black-forest-labs/flux-2-pro", "FLUX.2 [pro]", BFL, FLUX2_FIELDS, "single", "0.03", price_note=FLUX2_PRICE_NOTE
    ),
    _spec(
        "black-forest-labs/flux-2-max", "FLUX.2 [max]", BFL, FLUX2_FIELDS, "single", "0.07", price_note=FLUX2_PRICE_NOTE
    ),
    _spec(
        "black-forest-labs/flux-2-flex",
        "FLUX.2 [flex]",
        BFL,
        FLUX2_FLEX_FIELDS,
        "single",
        "0.06",
        price_note=FLUX2_PRICE_NOTE,
    ),
    _spec(
        "black-forest-labs/flux-2-dev",
        "FLUX.2 [dev]",
        BFL,
        FLUX2_DEV_FIELDS,
        "single",
        "0.012",
        price_note=FLUX2_PRICE_NOTE,
    ),
    _spec("ideogram-ai/ideogram-v3-turbo", "Ideogram 3.0 Turbo", IDEOGRAM, IDEOGRAM_V3_FIELDS, "single", "0.03"),
    _spec("ideogram-ai/ideogram-v3-balanced", "Ideogram 3.0 Balanced", IDEOGRAM, IDEOGRAM_V3_FIELDS, "single", "0.06"),
    _spec("ideogram-ai/ideogram-v3-quality", "Ideogram 3.0 Quality", IDEOGRAM, IDEOGRAM_V3_FIELDS, "single", "0.09"),
    _spec("ideogram-ai/ideogram-v2", "Ideogram 2.0", IDEOGRAM, IDEOGRAM_V2_FIELDS, "single", "0.08"),
    _spec("ideogram-ai/ideogram-v2-turbo", "Ideogram 2.0 Turbo", IDEOGRAM, IDEOGRAM_V2_FIELDS, "single", "0.05"),
    _spec(
        "ideogram-ai/ideogram-v2a",
        "Ideogram 2a",
        IDEOGRAM,
        IDEOGRAM_V2A_FIELDS,
        "single",
        "0.04",
        price_note=UNDOCUMENTED_PRICE_NOTE,
    ),
    _spec("recraft-ai/recraft-v3", "Recraft V3", RECRAFT, RECRAFT_V3_FIELDS, "single", "0.04"),
    _spec("recraft-ai/recraft-v3-svg", "Recraft V3 SVG", RECRAFT, RECRAFT_V3_SVG_FIELDS, "svg", "0.08"),
    _spec(
        "recraft-api",
        "Recraft (recraft-api)",
        RECRAFT,
        PROMPT_ONLY_FIELDS,
        "single",
        "0.04",
        documented=False,
        price_note=UNDOCUMENTED_PRICE_NOTE,
    ),
    _spec(
        "recraftv3",
        "Recraft V3 (recraftv3)",
        RECRAFT,
        PROMPT_ONLY_FIELDS,
        "single",
        "0.04",
        documented=False,
        price_note=UNDOCUMENTED_PRICE_NOTE,
    ),
    _spec(
        "stability-ai/sdxl",
        "SDXL",
        STABILITY,
        SDXL_FIELDS,
        "list",
        "0.0063",
        price_note=_("Billed by GPU time: the price shown is a typical run; more steps or the refiner cost more."),
    ),
    _spec(
        "stability-ai/stable-diffusion-3.5-large",
        "Stable Diffusion 3.5 Large",
        STABILITY,
        SD35_FIELDS,
        "single",
        "0.065",
    ),
    _spec(
        "stability-ai/stable-diffusion-3.5-large-turbo",
        "Stable Diffusion 3.5 Large Turbo",
        STABILITY,
        SD35_TURBO_FIELDS,
        "single",
        "0.04",
    ),
    _spec(
        "stability-ai/stable-diffusion-3.5-medium",
        "Stable Diffusion 3.5 Medium",
        STABILITY,
        SD35_FIELDS,
        "single",
        "0.035",
        price_note=UNDOCUMENTED_PRICE_NOTE,
    ),
    _spec(
        "stability-ai/stable-diffusion-3",
        "Stable Diffusion 3",
        STABILITY,
        PROMPT_AND_SEED_FIELDS,
        "single",
        "0.035",
        documented=False,
    ),
    # Replicate's community Stable Diffusion answers with a list of URLs.
    _spec(
        "stability-ai/stable-diffusion",
        "Stable Diffusion",
        STABILITY,
        PROMPT_AND_SEED_FIELDS,
        "list",
        "0.01",
        documented=False,
        price_note=UNDOCUMENTED_PRICE_NOTE,
    ),
    _spec(
        "dreamshaper-8-lcm",
        "DreamShaper 8 LCM",
        "DreamShaper",
        PROMPT_ONLY_FIELDS,
        "single",
        "0.01",
        documented=False,
        price_note=UNDOCUMENTED_PRICE_NOTE,
    ),
)

MODELS: dict[str, ModelSpec] = {spec.id: spec for spec in _SPECS}


def get_model(model_id: str) -> ModelSpec | None:
    """The code catalog's entry; pages use `selectors.model_get`, which adds admin settings."""
    return MODELS.get(model_id)


def model_choices() -> list[tuple[str, str]]:
    return [(spec.id, f"{spec.name} ({spec.vendor})") for spec in MODELS.values()]
