"""The simulator's output files: real images, small by default or at the size asked for.

Small (256 px on the long side): rendered when a file is downloaded, in a few milliseconds, the same
bytes for the same seed and prompt; recent files are cached so repeated downloads cost nothing.

Full (`Simulator(output_size="full")`): the size the input asks for (1024×1024 for 1 MP, up to
2048×2048), with noise so each format's file is about as large as a real picture's (a 1 MP webp
about 140 KB, a png 1.5 MB). Encoding one takes up to a third of a second, so each size and format
is rendered once and kept; each download is that file with the prediction's id written into its
comment (a PNG tEXt chunk, a JPEG COM segment, a WebP XMP chunk): files differ, stay valid, and
cost a copy.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import zlib
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, PngImagePlugin

from catalog.inputs import ModelSpec

LONG_SIDE = 256
OUTPUT_SIZES = ("small", "full")
# Full size: 1 MP is 1024×1024, as the FLUX models count it; no side longer than FLUX.2's 2048.
MEGAPIXEL = 1024 * 1024
FULL_LONG_SIDE_MAX = 2048
FULL_MULTIPLE = 16
_TAG = b"deerapi-simulator:"
_TAG_LENGTH = 48  # the bytes after _TAG that a download overwrites with its prediction's id
PILLOW_FORMATS = {"webp": "WEBP", "jpg": "JPEG", "jpeg": "JPEG", "png": "PNG"}
CONTENT_TYPES = {
    "webp": "image/webp",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "svg": "image/svg+xml",
}
_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")
_PIXELS = re.compile(r"^\s*(\d+)\s*[x×*]\s*(\d+)\s*$")
_MEGAPIXELS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:MP)?\s*$", re.IGNORECASE)
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


def full_size(data: dict[str, Any]) -> tuple[int, int]:
    """The width and height a model would answer with: an explicit size (`size`/`resolution` as
    "1024x1536", or `width` and `height` when no ratio is chosen), else the `megapixels` or
    `resolution` ("2 MP") asked for (1 MP by default) at the aspect ratio. Sides are multiples of
    16 and at most 2048."""
    for name in ("size", "resolution"):
        value = data.get(name)
        match = _PIXELS.match(value) if isinstance(value, str) else None
        if match:
            return _fitted(int(match.group(1)), int(match.group(2)))
    ratio = data.get("aspect_ratio")
    match = _RATIO.match(ratio) if isinstance(ratio, str) else None
    if not match and _positive_int(data.get("width")) and _positive_int(data.get("height")):
        return _fitted(data["width"], data["height"])
    width, height = (float(match.group(1)), float(match.group(2))) if match else (1.0, 1.0)
    if width <= 0 or height <= 0:
        width = height = 1.0
    megapixels = 1.0
    for name in ("megapixels", "resolution"):
        value = data.get(name)
        found = _MEGAPIXELS.match(str(value)) if isinstance(value, (str, int, float)) else None
        if found and float(found.group(1)) > 0:
            megapixels = float(found.group(1))
            break
    scale = math.sqrt(megapixels * MEGAPIXEL / (width * height))
    return _fitted(width * scale, height * scale)


def _fitted(width: float, height: float) -> tuple[int, int]:
    shrink = min(1.0, FULL_LONG_SIDE_MAX / max(width, height))

    def side(value: float) -> int:
        return max(FULL_MULTIPLE, round(value * shrink / FULL_MULTIPLE) * FULL_MULTIPLE)

    return side(width), side(height)


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
    image = _picture(digest, width, height)
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


def _picture(digest: bytes, width: int, height: int) -> Image.Image:
    """A four-corner gradient with four discs, coloured by `digest`."""
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
    return image


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


@lru_cache(maxsize=16)
def _full_base(extension: str, width: int, height: int, quality: int) -> bytes:
    """One full-size file per size, format and quality: a gradient with shapes under noise, with
    room in its comment for a download's tag."""
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    picture = Image.blend(_picture(_digest(width, extension, height), width, height), noise, 0.25)
    placeholder = _TAG + b"0" * _TAG_LENGTH
    out = io.BytesIO()
    pillow_format = PILLOW_FORMATS.get(extension, "PNG")
    quality = max(1, min(quality, 100))
    if pillow_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", placeholder.decode())
        picture.save(out, "PNG", pnginfo=info, compress_level=1)
    elif pillow_format == "WEBP":
        picture.save(out, "WEBP", quality=quality, method=0, xmp=placeholder)
    else:
        picture.save(out, "JPEG", quality=quality, comment=placeholder)
    return out.getvalue()


def render_full(extension: str, width: int, height: int, quality: int, tag: str) -> bytes:
    """A full-size file of `width`×`height` carrying `tag` (the prediction's id and output index)."""
    if extension == "svg":
        return _render_svg(_digest(0, tag, 0), tag, width, height)
    data = bytearray(_full_base(extension, width, height, quality))
    start = data.index(_TAG) + len(_TAG)
    data[start : start + _TAG_LENGTH] = tag.encode()[:_TAG_LENGTH].ljust(_TAG_LENGTH, b"-")
    if data.startswith(b"\x89PNG"):
        # The tEXt chunk's CRC covers its type and data: [length][tEXt][Comment\0 + text][CRC].
        chunk = data.rindex(b"tEXt", 0, start)
        length = int.from_bytes(data[chunk - 4 : chunk], "big")
        end = chunk + 4 + length
        data[end : end + 4] = zlib.crc32(data[chunk:end]).to_bytes(4, "big")
    return bytes(data)
