"""The simulator's output files: small real images, the same bytes for the same seed and prompt.

Rendering takes a few milliseconds and happens only when a file is downloaded;
recent files are cached so repeated downloads cost nothing.
"""

from __future__ import annotations

import hashlib
import io
import re
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw

from catalog.inputs import ModelSpec

LONG_SIDE = 256
PILLOW_FORMATS = {"webp": "WEBP", "jpg": "JPEG", "jpeg": "JPEG", "png": "PNG"}
CONTENT_TYPES = {
    "webp": "image/webp",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "svg": "image/svg+xml",
}
_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def output_extension(spec: ModelSpec, data: dict[str, Any]) -> str:
    """The file extension the model answers with for this input."""
    if spec.output == "svg":
        return "svg"
    chosen = data.get("output_format") if spec.field("output_format") else None
    extension = str(chosen or spec.default_output_format).lower()
    return extension if extension in PILLOW_FORMATS else "png"


def content_type(extension: str) -> str:
    return CONTENT_TYPES.get(extension, "application/octet-stream")


def image_size(data: dict[str, Any], long_side: int = LONG_SIDE) -> tuple[int, int]:
    """Width and height with the input's proportions and `long_side` on the longer side."""
    ratio = data.get("aspect_ratio")
    width = height = 1.0
    match = _RATIO.match(ratio) if isinstance(ratio, str) else None
    if match:
        width, height = float(match.group(1)), float(match.group(2))
    elif _positive_int(data.get("width")) and _positive_int(data.get("height")):
        width, height = float(data["width"]), float(data["height"])
    if width <= 0 or height <= 0:
        width = height = 1.0
    if width >= height:
        return long_side, max(1, round(long_side * height / width))
    return max(1, round(long_side * width / height)), long_side


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _digest(seed: int, prompt: str, index: int) -> bytes:
    return hashlib.sha256(f"{seed}\0{prompt}\0{index}".encode()).digest()


def _colour(digest: bytes, offset: int) -> tuple[int, int, int]:
    return digest[offset], digest[offset + 1], digest[offset + 2]


@lru_cache(maxsize=256)
def render(
    extension: str,
    seed: int,
    prompt: str,
    index: int,
    width: int,
    height: int,
    quality: int = 80,
) -> bytes:
    """The bytes of output file number `index`."""
    digest = _digest(seed, prompt, index)
    if extension == "svg":
        return _render_svg(digest, prompt, width, height)
    # A 2x2 image stretched bilinearly is a cheap four-corner gradient.
    corners = Image.new("RGB", (2, 2))
    corners.putdata([_colour(digest, offset) for offset in (0, 3, 6, 9)])
    image = corners.resize((width, height), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    for shape in range(4):
        base = 12 + shape * 5
        x, y = digest[base] * width // 255, digest[base + 1] * height // 255
        radius = 8 + digest[base + 2] * min(width, height) // 1020
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius),
            fill=_colour(digest, (base + 2) % 29),
            outline=(255, 255, 255),
        )
    out = io.BytesIO()
    pillow_format = PILLOW_FORMATS.get(extension, "PNG")
    if pillow_format == "PNG":
        image.save(out, "PNG")
    elif pillow_format == "WEBP":
        # The fastest encoder: the simulator shares the machine with what it serves.
        image.save(out, "WEBP", quality=max(1, min(quality, 100)), method=0)
    else:
        image.save(out, pillow_format, quality=max(1, min(quality, 100)))
    return out.getvalue()


def _render_svg(digest: bytes, prompt: str, width: int, height: int) -> bytes:
    start = "#{:02x}{:02x}{:02x}".format(*_colour(digest, 0))
    end = "#{:02x}{:02x}{:02x}".format(*_colour(digest, 3))
    circles = "".join(
        '<circle cx="{}" cy="{}" r="{}" fill="#{:02x}{:02x}{:02x}" fill-opacity="0.8"/>'.format(
            digest[base] * width // 255,
            digest[base + 1] * height // 255,
            8 + digest[base + 2] * min(width, height) // 1020,
            *_colour(digest, (base + 2) % 29),
        )
        for base in (12, 17, 22, 27)
    )
    title = escape(_XML_UNSAFE.sub("", prompt)[:200])
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f"<title>{title}</title>"
        '<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{start}"/><stop offset="1" stop-color="{end}"/>'
        "</linearGradient></defs>"
        '<rect width="100%" height="100%" fill="url(#bg)"/>'
        f"{circles}</svg>\n"
    )
    return document.encode()
