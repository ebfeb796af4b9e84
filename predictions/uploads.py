"""Images members upload as model inputs (Kontext's `input_image`, FLUX.2's `input_images`, …).

Checked with Pillow, stored as `InputImage`, and sent to DeerAPI as a data URL
when small, otherwise as `{PUBLIC_URL}/inputs/<token>/`, which DeerAPI fetches
without logging in: the token is a random UUID, never shown to other members.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from .models import InputImage, User

logger = logging.getLogger(__name__)

UPLOAD_MAX_BYTES = 10 * 1024 * 1024
# Up to this size an image travels inside the request as a data URL; larger ones
# are fetched by DeerAPI from DeerWeb's public address.
INLINE_MAX_BYTES = 256 * 1024
MAX_PIXELS = 64_000_000
# What the image inputs of DeerAPI's models accept (deerapi-api.md §3, groups B and D).
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "GIF": ("image/gif", "gif"),
           "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class CheckedImage:
    """An upload that is a real image of an allowed format and size; not stored yet."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.data)


def image_check(upload: UploadedFile) -> CheckedImage:
    """Read and check one uploaded file; raises ValidationError with a message for the member."""
    if upload.size is not None and upload.size > UPLOAD_MAX_BYTES:
        raise ValidationError(_("The image is larger than 10 MB."), code="too_large")
    data = upload.read(UPLOAD_MAX_BYTES + 1)
    if len(data) > UPLOAD_MAX_BYTES:
        raise ValidationError(_("The image is larger than 10 MB."), code="too_large")
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            width, height = image.size
            if fmt in FORMATS and width * height <= MAX_PIXELS:
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("This file is not an image DeerWeb can read."), code="not_image") from None
    if fmt not in FORMATS:
        raise ValidationError(_("Upload a JPEG, PNG, GIF or WebP image."), code="format")
    if width * height > MAX_PIXELS:
        raise ValidationError(_("The image has too many pixels."), code="too_many_pixels")
    if len(data) > INLINE_MAX_BYTES and not settings.PUBLIC_URL:
        raise ValidationError(
            _("This image is over 256 KB, too large to send to DeerAPI without a public address for "
              "DeerWeb (DEERWEB_PUBLIC_URL). Use a smaller image or an image URL."),
            code="needs_public_url",
        )
    content_type, extension = FORMATS[fmt]
    return CheckedImage(data, content_type, extension, width, height)


def input_image_store(owner: User, image: CheckedImage) -> InputImage:
    """Save a checked upload and return its row (the file is written first)."""
    stored = InputImage(owner=owner, content_type=image.content_type, size=image.size,
                        width=image.width, height=image.height)
    stored.file.save(f"{stored.token}.{image.extension}", ContentFile(image.data), save=False)
    stored.save()
    return stored


def input_image_url(stored: InputImage, data: bytes) -> str:
    """How DeerAPI gets the image: inline when small, else from DeerWeb's public address."""
    if stored.size <= INLINE_MAX_BYTES:
        return f"data:{stored.content_type};base64,{base64.b64encode(data).decode('ascii')}"
    return settings.PUBLIC_URL + reverse("input_image", args=[stored.token])


def input_values_store(owner: User, data: dict[str, Any]) -> tuple[dict[str, Any], list[InputImage]]:
    """Store every checked upload in a form's input values and put its URL in its place.

    Returns the input for `prediction_create` and the rows stored, so a caller
    whose prediction is refused can discard them (`input_images_discard`).
    """
    stored: list[InputImage] = []

    def resolve(value: Any) -> Any:
        if isinstance(value, CheckedImage):
            row = input_image_store(owner, value)
            stored.append(row)
            return input_image_url(row, value.data)
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return value

    return {name: resolve(value) for name, value in data.items()}, stored


def input_images_discard(images: list[InputImage]) -> None:
    """Delete uploads whose prediction was not created (rows and files)."""
    for image in images:
        image.file.delete(save=False)
        if image.pk:
            InputImage.objects.filter(pk=image.pk).delete()
