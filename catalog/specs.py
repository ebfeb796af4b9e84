"""The DeerAPI models DeerWeb offers, with each one's input schema.

Field names are the model's own input keys; they are sent to DeerAPI as they
are. Models that share a schema share one field tuple. Sources:
../shared/docs/deerapi-api.md §3 (schemas, groups A–K) and §4 (prices).

This module is plain Python (no database, no settings) so the simulator can use
it too; help texts are lazy translations, resolved only when a form shows them.
Admin overrides (enabled, price) and models added from the admin live in
`ModelConfig`; `selectors.model_get` combines the two.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

# Lazy: importing this module needs no settings; help texts are translated when shown.
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

FieldKind = Literal["string", "text", "integer", "number", "boolean", "enum", "uri", "uri_list"]
OutputShape = Literal["single", "list", "svg"]
OUTPUT_SHAPES: tuple[OutputShape, ...] = ("single", "list", "svg")


# Names the prediction form uses for itself; an admin-added model may not use them as inputs.
RESERVED_NAMES = frozenset({"model", "prompt_id", "source", "switch", "csrfmiddlewaretoken"})


@dataclass(frozen=True)
class InputField:
    name: str
    kind: FieldKind
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    # A lazy translation: kept out of ==, hash and repr, which would need settings (and vary by language).
    help: StrOrPromise = dataclasses.field(default="", compare=False, repr=False)
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
    # False: DeerAPI documents no input schema for this model; only the prompt
    # (and inputs we can justify) are offered, and the form says so.
    documented: bool = True
    # How the price is an estimate (per-megapixel or time billing), shown beside it.
    price_note: StrOrPromise = dataclasses.field(default="", compare=False, repr=False)

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

    @property
    def price_text(self) -> str:
        """The price per image for people: 0.0400 → "0.04", never in scientific notation."""
        text = format(self.price.normalize(), "f")
        return text if "." in text else f"{text}.00"

    @property
    def owner(self) -> str:
        """The id's owner part ("black-forest-labs"), or "" for ids without one."""
        return self.id.split("/", 1)[0] if "/" in self.id else ""


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


def _aspect_ratio(default: str, choices: tuple[str, ...]) -> InputField:
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
    _aspect_ratio("1:1", FLUX_ASPECT_RATIOS),
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
    _aspect_ratio("1:1", ("custom", *PRO_ASPECT_RATIOS)),
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
    _aspect_ratio("1:1", ("21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16", "9:21")),
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
    _aspect_ratio(
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
    _aspect_ratio("1:1", FLUX2_ASPECT_RATIOS),
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
    _aspect_ratio("1:1", FLUX2_ASPECT_RATIOS),
    _size("width", 1440, 32),
    _size("height", 1440, 32),
    OUTPUT_FORMAT,
    OUTPUT_QUALITY,
    DISABLE_SAFETY_CHECKER,
    SEED,
)
FLUX2_PRICE_NOTE = _("Billed per megapixel (input images count too): the price shown is for a 1 MP image.")

# --- Groups G and H: Ideogram ----------------------------------------------------------------

IDEOGRAM_V2_RESOLUTIONS = (
    "None",
    "512x1536",
    "576x1408",
    "576x1472",
    "576x1536",
    "640x1344",
    "640x1408",
    "640x1472",
    "640x1536",
    "704x1152",
    "704x1216",
    "704x1280",
    "704x1344",
    "704x1408",
    "704x1472",
    "736x1312",
    "768x1088",
    "768x1216",
    "768x1280",
    "768x1344",
    "832x960",
    "832x1024",
    "832x1088",
    "832x1152",
    "832x1216",
    "832x1248",
    "864x1152",
    "896x960",
    "896x1024",
    "896x1088",
    "896x1120",
    "896x1152",
    "960x832",
    "960x896",
    "960x1024",
    "960x1088",
    "1024x832",
    "1024x896",
    "1024x960",
    "1024x1024",
    "1088x768",
    "1088x832",
    "1088x896",
    "1088x960",
    "1120x896",
    "1152x704",
    "1152x832",
    "1152x864",
    "1152x896",
    "1216x704",
    "1216x768",
    "1216x832",
    "1248x832",
    "1280x704",
    "1280x768",
    "1280x800",
    "1312x736",
    "1344x640",
    "1344x704",
    "1344x768",
    "1408x576",
    "1408x640",
    "1408x704",
    "1472x576",
    "1472x640",
    "1472x704",
    "1536x512",
    "1536x576",
    "1536x640",
)
_V3_EXTRA = IDEOGRAM_V2_RESOLUTIONS.index("832x960")
IDEOGRAM_V3_RESOLUTIONS = (*IDEOGRAM_V2_RESOLUTIONS[:_V3_EXTRA], "800x1280", *IDEOGRAM_V2_RESOLUTIONS[_V3_EXTRA:])
IDEOGRAM_STYLE_PRESETS = (
    "None",
    "80s Illustration",
    "90s Nostalgia",
    "Abstract Organic",
    "Analog Nostalgia",
    "Art Brut",
    "Art Deco",
    "Art Poster",
    "Aura",
    "Avant Garde",
    "Bauhaus",
    "Blueprint",
    "Blurry Motion",
    "Bright Art",
    "C4D Cartoon",
    "Children's Book",
    "Collage",
    "Coloring Book I",
    "Coloring Book II",
    "Cubism",
    "Dark Aura",
    "Doodle",
    "Double Exposure",
    "Dramatic Cinema",
    "Editorial",
    "Emotional Minimal",
    "Ethereal Party",
    "Expired Film",
    "Flat Art",
    "Flat Vector",
    "Forest Reverie",
    "Geo Minimalist",
    "Glass Prism",
    "Golden Hour",
    "Graffiti I",
    "Graffiti II",
    "Halftone Print",
    "High Contrast",
    "Hippie Era",
    "Iconic",
    "Japandi Fusion",
    "Jazzy",
    "Long Exposure",
    "Magazine Editorial",
    "Minimal Illustration",
    "Mixed Media",
    "Monochrome",
    "Nightlife",
    "Oil Painting",
    "Old Cartoons",
    "Paint Gesture",
    "Pop Art",
    "Retro Etching",
    "Riviera Pop",
    "Spotlight 80s",
    "Stylized Red",
    "Surreal Collage",
    "Travel Poster",
    "Vintage Geo",
    "Vintage Poster",
    "Watercolor",
    "Weird",
    "Woodblock Print",
)
IDEOGRAM_RESOLUTION_HELP = _("Exact size in pixels; overrides the aspect ratio. “None”: use the aspect ratio.")
MAGIC_PROMPT = InputField(
    "magic_prompt_option",
    "enum",
    "Auto",
    ("Auto", "On", "Off"),
    help=_("Let Ideogram rewrite the prompt."),
)
IDEOGRAM_IMAGE = InputField("image", "uri", help=_("An image to inpaint; needs a mask."))
IDEOGRAM_MASK = InputField("mask", "uri", help=_("The mask for inpainting: black is repainted, white is kept."))

IDEOGRAM_V3_FIELDS = (
    PROMPT,
    _aspect_ratio(
        "1:1",
        ("1:3", "3:1", "1:2", "2:1", "9:16", "16:9", "10:16", "16:10", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "1:1"),
    ),
    InputField("resolution", "enum", "None", IDEOGRAM_V3_RESOLUTIONS, help=IDEOGRAM_RESOLUTION_HELP),
    MAGIC_PROMPT,
    InputField(
        "style_type", "enum", "None", ("None", "Auto", "General", "Realistic", "Design"), help=_("The kind of image.")
    ),
    InputField("style_preset", "enum", "None", IDEOGRAM_STYLE_PRESETS, help=_("A named visual style.")),
    InputField("style_reference_images", "uri_list", help=_("Images whose style to follow.")),
    IDEOGRAM_IMAGE,
    IDEOGRAM_MASK,
    SEED,
)
IDEOGRAM_V2_ASPECT_RATIO = _aspect_ratio(
    "1:1",
    ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "16:10", "10:16", "3:1", "1:3"),
)
IDEOGRAM_V2_STYLE_TYPE = InputField(
    "style_type",
    "enum",
    "None",
    ("None", "Auto", "General", "Realistic", "Design", "Render 3D", "Anime"),
    help=_("The kind of image."),
)
IDEOGRAM_V2_RESOLUTION = InputField(
    "resolution",
    "enum",
    "None",
    IDEOGRAM_V2_RESOLUTIONS,
    help=IDEOGRAM_RESOLUTION_HELP,
)
IDEOGRAM_V2_FIELDS = (
    PROMPT,
    NEGATIVE_PROMPT,
    IDEOGRAM_V2_ASPECT_RATIO,
    IDEOGRAM_V2_RESOLUTION,
    MAGIC_PROMPT,
    IDEOGRAM_V2_STYLE_TYPE,
    IDEOGRAM_IMAGE,
    IDEOGRAM_MASK,
    SEED,
)
IDEOGRAM_V2A_FIELDS = (
    PROMPT,
    IDEOGRAM_V2_ASPECT_RATIO,
    IDEOGRAM_V2_RESOLUTION,
    MAGIC_PROMPT,
    IDEOGRAM_V2_STYLE_TYPE,
    SEED,
)

# --- Group I: Recraft ------------------------------------------------------------------------

RECRAFT_COMMON = (
    InputField(
        "size",
        "enum",
        "1024x1024",
        (
            "1024x1024",
            "1365x1024",
            "1024x1365",
            "1536x1024",
            "1024x1536",
            "1820x1024",
            "1024x1820",
            "1024x2048",
            "2048x1024",
            "1434x1024",
            "1024x1434",
            "1024x1280",
            "1280x1024",
            "1024x1707",
            "1707x1024",
        ),
        help=_("Width x height in pixels; ignored when an aspect ratio is set."),
    ),
    _aspect_ratio(
        "Not set",
        (
            "Not set",
            "1:1",
            "4:3",
            "3:4",
            "3:2",
            "2:3",
            "16:9",
            "9:16",
            "1:2",
            "2:1",
            "7:5",
            "5:7",
            "4:5",
            "5:4",
            "3:5",
            "5:3",
        ),
    ),
)
RECRAFT_V3_FIELDS = (
    PROMPT,
    *RECRAFT_COMMON,
    InputField(
        "style",
        "enum",
        "any",
        (
            "any",
            "realistic_image",
            "digital_illustration",
            "digital_illustration/pixel_art",
            "digital_illustration/hand_drawn",
            "digital_illustration/grain",
            "digital_illustration/infantile_sketch",
            "digital_illustration/2d_art_poster",
            "digital_illustration/handmade_3d",
            "digital_illustration/hand_drawn_outline",
            "digital_illustration/engraving_color",
            "digital_illustration/2d_art_poster_2",
            "realistic_image/b_and_w",
            "realistic_image/hard_flash",
            "realistic_image/hdr",
            "realistic_image/natural_light",
            "realistic_image/studio_portrait",
            "realistic_image/enterprise",
            "realistic_image/motion_blur",
        ),
        help=_("The visual style."),
    ),
)
RECRAFT_V3_SVG_FIELDS = (
    PROMPT,
    *RECRAFT_COMMON,
    InputField(
        "style", "enum", "any", ("any", "engraving", "line_art", "line_circuit", "linocut"), help=_("The visual style.")
    ),
)

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
    _aspect_ratio("1:1", ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")),
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
