"""The input fields of the Ideogram and Recraft models (groups G to I of deerapi-api.md §3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

# Lazy: importing this module needs no settings; help texts are translated when shown.
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    pass


from catalog.fields import NEGATIVE_PROMPT, PROMPT, SEED, aspect_ratio
from catalog.inputs import InputField

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
    aspect_ratio(
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
IDEOGRAM_V2_ASPECT_RATIO = aspect_ratio(
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
    aspect_ratio(
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
