"""common/image_metadata.py: metadata written into PNG, JPEG and WebP bytes, the image data copied
as it was, and the result read back by Pillow."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from common import image_metadata

XMP = image_metadata.xmp_packet({"record": '{"prompt": "a <deer> & a fawn, 鹿"}'})


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def record(image: Image.Image) -> str:
    return image.getxmp()["xmpmeta"]["RDF"]["Description"]["record"]


def test_png_text_is_latin_1_text_or_utf_8_international_text_and_replaces_the_same_keywords():
    original = encoded(Image.new("RGB", (5, 3), "red"), "PNG")
    once = image_metadata.png_with_text(original, {"parameters": "old", "deerweb": "{}"})
    twice = image_metadata.png_with_text(once, {"parameters": "a deer\nSeed: 1", "deerweb": '{"prompt": "鹿"}'})
    image = opened(twice)
    assert image.text == {"parameters": "a deer\nSeed: 1", "deerweb": '{"prompt": "鹿"}'}
    assert b"tEXtparameters" in twice and b"iTXtdeerweb" in twice
    assert image.tobytes() == opened(original).tobytes()


def test_a_jpeg_gets_one_xmp_segment_after_its_jfif_header_and_decodes_to_the_same_pixels():
    original = encoded(Image.new("RGB", (16, 9), "blue"), "JPEG")
    with_xmp = image_metadata.jpeg_with_xmp(image_metadata.jpeg_with_xmp(original, b"<old/>"), XMP)
    assert with_xmp[2:4] == b"\xff\xe0"  # JFIF's APP0 still first
    assert with_xmp.count(image_metadata.XMP_JPEG_HEADER) == 1
    assert record(opened(with_xmp)) == '{"prompt": "a <deer> & a fawn, 鹿"}'
    assert opened(with_xmp).tobytes() == opened(original).tobytes()


@pytest.mark.parametrize(
    ("mode", "options"),
    [("RGB", {}), ("RGBA", {}), ("RGB", {"lossless": True}), ("RGBA", {"lossless": True})],
    ids=["lossy", "lossy-alpha", "lossless", "lossless-alpha"],
)
def test_a_webp_becomes_extended_with_an_xmp_chunk_and_keeps_its_size_alpha_and_pixels(mode, options):
    original = encoded(Image.new(mode, (7, 5), (10, 200, 30, 128)[: len(mode)]), "WEBP", **options)
    with_xmp = image_metadata.webp_with_xmp(original, XMP)
    assert with_xmp[12:16] == b"VP8X"
    assert int.from_bytes(with_xmp[4:8], "little") == len(with_xmp) - 8
    image = opened(with_xmp)
    assert (image.size, image.mode) == ((7, 5), opened(original).mode)
    assert record(image) == '{"prompt": "a <deer> & a fawn, 鹿"}'
    assert image.tobytes() == opened(original).tobytes()
    again = image_metadata.webp_with_xmp(with_xmp, XMP)
    assert again == with_xmp  # an extended file's XMP is replaced, not repeated


def test_bytes_of_another_kind_are_refused():
    png = encoded(Image.new("RGB", (2, 2)), "PNG")
    for insert in (image_metadata.jpeg_with_xmp, image_metadata.webp_with_xmp):
        with pytest.raises(image_metadata.UnsupportedImage):
            insert(png, XMP)
    with pytest.raises(image_metadata.UnsupportedImage):
        image_metadata.png_with_text(b"GIF89a", {"parameters": "x"})
