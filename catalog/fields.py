"""The input fields of the catalog's models, shared across families where their schemas agree.

Field names are the model's own input keys; they are sent to DeerAPI as they are. Source:
../shared/docs/deerapi-api.md §3 (schemas, groups A–K). Help texts are lazy translations.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

# Lazy: importing this module needs no settings; help texts are translated when shown.
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    pass


from catalog.inputs import InputField

# --- Fields shared across families ---------------------------------------------------------

PROMPT = InputField("prompt", "text", required=True, help=_("What to generate."))
EDIT_PROMPT = InputField(
    "prompt",
    "text",
    required=True,
    help=_("What to generate, or how to change the input image."),
)
SEED = InputField(
    "seed",
    "integer",
    minimum=0,
    maximum=2147483647,
    help=_("Fix the seed to repeat a result; leave empty for a random one."),
)
OUTPUT_FORMAT = InputField("output_format", "enum", "webp", ("webp", "jpg", "png"), help=_("Image file format."))
OUTPUT_QUALITY = InputField(
    "output_quality",
    "integer",
    80,
    minimum=0,
    maximum=100,
    help=_("Compression quality for jpg and webp (ignored for png)."),
)
GO_FAST = InputField("go_fast", "boolean", True, help=_("Faster, not deterministic even with a seed."))
DISABLE_SAFETY_CHECKER = InputField("disable_safety_checker", "boolean", False, help=_("Turn off the safety checker."))
PROMPT_UPSAMPLING = InputField("prompt_upsampling", "boolean", False, help=_("Let the model expand the prompt."))
NEGATIVE_PROMPT = InputField("negative_prompt", "string", help=_("What the image should not show."))
IMAGE_PROMPT = InputField(
    "image_prompt",
    "uri",
    help=_("A reference image (jpeg, png, gif or webp) that guides composition and style."),
)
PROMPT_STRENGTH_HELP = _("How far to move away from the input image: 1 ignores it.")


def aspect_ratio(default: str, choices: tuple[str, ...]) -> InputField:
    return InputField("aspect_ratio", "enum", default, choices, help=_("Shape of the image."))


def _safety_tolerance(minimum: int, maximum: int) -> InputField:
    return InputField(
        "safety_tolerance",
        "integer",
        2,
        minimum=minimum,
        maximum=maximum,
        help=_("Lowest is strictest, highest most permissive."),
    )


def _size(name: str, maximum: int, multiple: int) -> InputField:
    # One literal per case: `%` on a lazy string would translate it at import time.
    help_text = {
        16: _("Pixels; only with aspect ratio “custom”; rounded to a multiple of 16."),
        32: _("Pixels; only with aspect ratio “custom”; rounded to a multiple of 32."),
    }[multiple]
    return InputField(name, "integer", None, minimum=256, maximum=maximum, help=help_text)


FLUX_ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
PRO_ASPECT_RATIOS = ("1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3")

# --- Group A: FLUX.1 open models (list output) -----------------------------------------------

FLUX_OPEN_COMMON = (
    aspect_ratio("1:1", FLUX_ASPECT_RATIOS),
    InputField("num_outputs", "integer", 1, minimum=1, maximum=4, help=_("How many images.")),
    InputField("megapixels", "enum", "1", ("1", "0.25"), help=_("Approximate image size.")),
    OUTPUT_FORMAT,
    OUTPUT_QUALITY,
)
FLUX_SCHNELL_FIELDS = (
    PROMPT,
    *FLUX_OPEN_COMMON,
    InputField("num_inference_steps", "integer", 4, minimum=1, maximum=4, help=_("Denoising steps.")),
    GO_FAST,
    DISABLE_SAFETY_CHECKER,
    SEED,
)
FLUX_DEV_FIELDS = (
    PROMPT,
    InputField("image", "uri", help=_("An input image for image-to-image; the output takes its aspect ratio.")),
    InputField("prompt_strength", "number", 0.8, minimum=0, maximum=1, help=PROMPT_STRENGTH_HELP),
    *FLUX_OPEN_COMMON,
    InputField("num_inference_steps", "integer", 28, minimum=1, maximum=50, help=_("Denoising steps.")),
    InputField("guidance", "number", 3, minimum=0, maximum=10, help=_("How closely to follow the prompt.")),
    GO_FAST,
    DISABLE_SAFETY_CHECKER,
    SEED,
)

# --- Group B: FLUX pro text-to-image (single output) ------------------------------------------

FLUX_PRO_COMMON = (
    aspect_ratio("1:1", ("custom", *PRO_ASPECT_RATIOS)),
    _size("width", 1440, 32),
    _size("height", 1440, 32),
    # 1–6 in most versions; one flux-1.1-pro version allows 5 at most (DeerAPI's 422 says so then).
    _safety_tolerance(1, 6),
    PROMPT_UPSAMPLING,
    IMAGE_PROMPT,
    OUTPUT_FORMAT,
    OUTPUT_QUALITY,
    SEED,
)
FLUX_11_PRO_FIELDS = (PROMPT, *FLUX_PRO_COMMON)
FLUX_PRO_FIELDS = (
    PROMPT,
    *FLUX_PRO_COMMON,
    InputField("guidance", "number", 3, minimum=2, maximum=5, help=_("How closely to follow the prompt.")),
    InputField("steps", "integer", 25, minimum=1, maximum=50, help=_("Denoising steps (deprecated by BFL).")),
    InputField("interval", "number", 2, minimum=1, maximum=4, help=_("Output variety (deprecated by BFL).")),
)

# --- Group C: FLUX1.1 [pro] ultra -------------------------------------------------------------

FLUX_ULTRA_FIELDS = (
    PROMPT,
    aspect_ratio("1:1", ("21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16", "9:21")),
    InputField("raw", "boolean", False, help=_("Less processed, more natural-looking images.")),
    InputField("output_format", "enum", "jpg", ("jpg", "png"), help=_("Image file format.")),
    _safety_tolerance(1, 6),
    IMAGE_PROMPT,
    InputField(
        "image_prompt_strength",
        "number",
        0.1,
        minimum=0,
        maximum=1,
        help=_("How much the reference image counts against the prompt."),
    ),
    SEED,
)

# --- Group D: Kontext editing -----------------------------------------------------------------

KONTEXT_FIELDS = (
    EDIT_PROMPT,
    InputField(
        "input_image",
        "uri",
        help=_("The image to edit (jpeg, png, gif or webp); leave empty to make a new image."),
    ),
    aspect_ratio(
        "match_input_image",
        (
            "match_input_image",
            "1:1",
            "16:9",
            "9:16",
            "4:3",
            "3:4",
            "3:2",
            "2:3",
            "4:5",
            "5:4",
            "21:9",
            "9:21",
            "2:1",
            "1:2",
        ),
    ),
    InputField("output_format", "enum", "png", ("jpg", "png"), help=_("Image file format.")),
    InputField(
        "safety_tolerance",
        "integer",
        2,
        minimum=0,
        maximum=6,
        help=_("0 is strictest, 6 most permissive; at most 2 with an input image."),
    ),
    PROMPT_UPSAMPLING,
    SEED,
)

# --- Group E: FLUX.2 managed models; Group F: FLUX.2 [dev] ----------------------------------------

FLUX2_ASPECT_RATIOS = ("match_input_image", "custom", *PRO_ASPECT_RATIOS)


def _input_images(max_items: int) -> InputField:
    help_text = {
        4: _("Reference images (jpeg, png, gif or webp), at most 4."),
        8: _("Reference images (jpeg, png, gif or webp), at most 8."),
        10: _("Reference images (jpeg, png, gif or webp), at most 10."),
    }[max_items]
    return InputField("input_images", "uri_list", max_items=max_items, help=help_text)


FLUX2_AFTER_IMAGES = (
    aspect_ratio("1:1", FLUX2_ASPECT_RATIOS),
    InputField(
        "resolution",
        "enum",
        "1 MP",
        ("match_input_image", "0.5 MP", "1 MP", "2 MP", "4 MP"),
        help=_("Output size in megapixels (longest side at most 2048); not used with “custom”."),
    ),
    _size("width", 2048, 16),
    _size("height", 2048, 16),
    _safety_tolerance(1, 5),
    OUTPUT_FORMAT,
    OUTPUT_QUALITY,
    SEED,
)
FLUX2_FIELDS = (PROMPT, _input_images(8), *FLUX2_AFTER_IMAGES)
FLUX2_FLEX_FIELDS = (
    PROMPT,
    _input_images(10),
    *FLUX2_AFTER_IMAGES,
    InputField("steps", "integer", 30, minimum=1, maximum=50, help=_("Denoising steps.")),
    InputField("guidance", "number", 4.5, minimum=1.5, maximum=10, help=_("How closely to follow the prompt.")),
    dataclasses.replace(PROMPT_UPSAMPLING, default=True),
)
FLUX2_DEV_FIELDS = (
    PROMPT,
    _input_images(4),
    GO_FAST,
    aspect_ratio("1:1", FLUX2_ASPECT_RATIOS),
    _size("width", 1440, 32),
    _size("height", 1440, 32),
    OUTPUT_FORMAT,
    OUTPUT_QUALITY,
    DISABLE_SAFETY_CHECKER,
    SEED,
)
FLUX2_PRICE_NOTE = _("Billed per megapixel (input images count too): the price shown is for a 1 MP image.")

# --- Group J: SDXL (list output) --------------------------------------------------------------

SDXL_FIELDS = (
    PROMPT,
    NEGATIVE_PROMPT,
    InputField("width", "integer", 1024, minimum=1, help=_("Pixels.")),
    InputField("height", "integer", 1024, minimum=1, help=_("Pixels.")),
    InputField("num_outputs", "integer", 1, minimum=1, maximum=4, help=_("How many images.")),
    InputField(
        "scheduler",
        "enum",
        "K_EULER",
        ("DDIM", "DPMSolverMultistep", "HeunDiscrete", "KarrasDPM", "K_EULER_ANCESTRAL", "K_EULER", "PNDM"),
        help=_("The sampling scheduler."),
    ),
    InputField("num_inference_steps", "integer", 50, minimum=1, maximum=500, help=_("Denoising steps.")),
    InputField("guidance_scale", "number", 7.5, minimum=1, maximum=50, help=_("How closely to follow the prompt.")),
    InputField(
        "refine",
        "enum",
        "no_refiner",
        ("no_refiner", "expert_ensemble_refiner", "base_image_refiner"),
        help=_("Which refiner to run."),
    ),
    InputField("refine_steps", "integer", minimum=1, help=_("Refiner steps (base_image_refiner only).")),
    InputField(
        "high_noise_frac",
        "number",
        0.8,
        minimum=0,
        maximum=1,
        help=_("Share of steps for the expert ensemble refiner."),
    ),
    InputField("image", "uri", help=_("An input image for image-to-image or inpainting.")),
    InputField("mask", "uri", help=_("The mask for inpainting: white is repainted, black is kept.")),
    InputField("prompt_strength", "number", 0.8, minimum=0, maximum=1, help=PROMPT_STRENGTH_HELP),
    InputField("lora_scale", "number", 0.6, minimum=0, maximum=1, help=_("LoRA strength (with LoRA weights).")),
    InputField("replicate_weights", "string", help=_("LoRA weights to use.")),
    InputField("apply_watermark", "boolean", True, help=_("Add an invisible watermark.")),
    DISABLE_SAFETY_CHECKER,
    SEED,
)

# --- Group K: Stable Diffusion 3.5 ----------------------------------------------------------------

SD35_BEFORE_CFG = (
    PROMPT,
    aspect_ratio("1:1", ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")),
)
SD35_AFTER_CFG = (
    InputField("image", "uri", help=_("An input image for image-to-image; the aspect ratio is then ignored.")),
    InputField("prompt_strength", "number", 0.85, minimum=0, maximum=1, help=PROMPT_STRENGTH_HELP),
    NEGATIVE_PROMPT,
    OUTPUT_FORMAT,
    SEED,
)
CFG_HELP = _("How closely to follow the prompt.")
SD35_FIELDS = (*SD35_BEFORE_CFG, InputField("cfg", "number", 5, minimum=1, maximum=10, help=CFG_HELP), *SD35_AFTER_CFG)
SD35_TURBO_FIELDS = (
    *SD35_BEFORE_CFG,
    InputField("cfg", "number", 1, minimum=1, maximum=10, help=CFG_HELP),
    *SD35_AFTER_CFG,
)

# --- Undocumented models -------------------------------------------------------------------
# DeerAPI lists these ids but documents no schema (deerapi-api.md §6.5). We offer
# the prompt, plus `seed` where §3.2 says every non-Recraft model takes one, and
# let DeerAPI's 422 speak for anything else.

PROMPT_ONLY_FIELDS = (PROMPT,)
PROMPT_AND_SEED_FIELDS = (PROMPT, SEED)
UNDOCUMENTED_PRICE_NOTE = _("DeerAPI publishes no price for this model: the price shown is an estimate.")
