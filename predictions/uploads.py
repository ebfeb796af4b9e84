"""Images members upload as model inputs (Kontext's `input_image`, FLUX.2's `input_images`, …).

Checked with Pillow, stored as `InputImage`, linked to the prediction made with
it, and sent to DeerAPI as a data URL when small, otherwise as
`{PUBLIC_URL}/inputs/<token>/`, which DeerAPI fetches without logging in. That
URL answers only while DeerAPI may need it (`selectors.input_image_for_deerapi`)
and is never shown on a page: pages link to `/predictions/<id>/inputs/<image>/`,
under the prediction's permissions (`inputs_shown`). "Edit and run" puts that
link in the form, and "Run again" and the form copy a reused image into a new
upload of the new prediction's owner, with its own token (`input_values_store`).
An image goes with its prediction's files (`input_images_release`), and uploads
no prediction was made with go after a day (`input_images_purge`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

from predictions import selectors
from predictions.models import InputImage, Prediction, User

logger = logging.getLogger(__name__)

UPLOAD_MAX_BYTES = 10 * 1024 * 1024
# Up to this size an image travels inside the request as a data URL; larger ones
# are fetched by DeerAPI from DeerWeb's public address.
INLINE_MAX_BYTES = 256 * 1024
MAX_PIXELS = 64_000_000
# What the image inputs of DeerAPI's models accept (deerapi-api.md §3, groups B and D).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
EXTENSIONS = dict(FORMATS.values())
# Uploads no prediction was made with are removed once this old.
ORPHAN_AGE = timedelta(days=1)
PURGE_BATCH = 500
NEEDS_PUBLIC_URL = gettext_lazy(
    "This image is over 256 KB, too large to send to DeerAPI without a public address for "
    "DeerWeb (DEERWEB_PUBLIC_URL). Use a smaller image or an image URL."
)
# The path of an uploaded image's public URL; its token is the credential.
_TOKEN_PATH = re.compile(r"/inputs/(?P<token>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/$")


class InputImageUnavailable(ValueError):
    """An input names an uploaded image the member may not use, or one that is gone.
    `errors` maps the input to a message, as `services.PredictionInputError`'s does."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.errors = {name: message}


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
        raise ValidationError(NEEDS_PUBLIC_URL, code="needs_public_url")
    content_type, extension = FORMATS[fmt]
    return CheckedImage(data, content_type, extension, width, height)


def input_image_store(owner: User, image: CheckedImage) -> InputImage:
    """Save a checked upload and return its row (the file is written first)."""
    stored = InputImage(
        owner=owner,
        content_type=image.content_type,
        size=image.size,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(image.data).hexdigest(),
    )
    stored.file.save(f"{stored.token}.{image.extension}", ContentFile(image.data), save=False)
    stored.save()
    return stored


def input_image_url(stored: InputImage, data: bytes) -> str:
    """How DeerAPI gets the image: inline when small, else from DeerWeb's public address."""
    if stored.size <= INLINE_MAX_BYTES:
        return f"data:{stored.content_type};base64,{base64.b64encode(data).decode('ascii')}"
    return settings.PUBLIC_URL + reverse("input_image", args=[stored.token])


def input_values_store(
    owner: User, data: dict[str, Any], *, hosts: frozenset[str] = frozenset(), source: Prediction | None = None
) -> tuple[dict[str, Any], list[InputImage]]:
    """Store every checked upload in a form's input values and put its URL in its place; copy
    every uploaded image the values reuse into a new upload of `owner`'s, likewise.

    A reused image is named by its page link (`/predictions/<id>/inputs/<image>/` at one of
    `hosts` or PUBLIC_URL, as "Edit and run" fills in), which `owner` must be allowed to see,
    or by its public URL: then it must be one of `source`'s images ("Run again"), or without
    a source one `owner` may see. Raises InputImageUnavailable otherwise.

    Returns the input for `prediction_create` and the rows stored, which the caller links to
    the prediction (`input_images_link`) or, when it is refused, discards (`input_images_discard`).
    """
    stored: list[InputImage] = []
    hosts = hosts | ({urlsplit(settings.PUBLIC_URL).netloc} - {""})

    def resolve_value(name: str, value: Any) -> Any:
        if isinstance(value, CheckedImage):
            row = input_image_store(owner, value)
            stored.append(row)
            return input_image_url(row, value.data)
        if isinstance(value, list):
            return [resolve_value(name, item) for item in value]
        reused = _reused_image(owner, name, value, hosts, source)
        if reused is None:
            return value
        row, data = _copy(owner, name, reused)
        stored.append(row)
        return input_image_url(row, data)

    try:
        return {name: resolve_value(name, value) for name, value in data.items()}, stored
    except InputImageUnavailable:
        input_images_discard(stored)
        raise


def _reused_image(
    owner: User, name: str, value: Any, hosts: frozenset[str], source: Prediction | None
) -> InputImage | None:
    """The uploaded image `value` names (see `input_values_store`), or None for any other value."""
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        return None
    parts = urlsplit(value)
    ours = parts.netloc in hosts
    if ours and (page := _page_link(parts.path)) is not None:
        try:
            return selectors.prediction_input_image(owner, *page)
        except Http404:
            raise _gone(name) from None
    token = input_token(value)
    if token is None:
        return None
    images = source.input_images.all() if source is not None else selectors.input_images_visible_to(owner)
    image = images.filter(token=token).first()
    if image is None and (ours or InputImage.objects.filter(token=token).exists()):
        raise _gone(name)
    return image


def _page_link(path: str) -> tuple[int, int] | None:
    """(prediction id, image id) of an uploaded image's page link, else None."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.view_name != "predictions:input":
        return None
    return match.kwargs["pk"], match.kwargs["image_id"]


def _gone(name: str) -> InputImageUnavailable:
    return InputImageUnavailable(name, _("This uploaded image is no longer available: upload it again."))


def _copy(owner: User, name: str, image: InputImage) -> tuple[InputImage, bytes]:
    """A new upload of `owner`'s with `image`'s bytes (and a token of its own)."""
    if image.size > INLINE_MAX_BYTES and not settings.PUBLIC_URL:
        raise InputImageUnavailable(name, str(NEEDS_PUBLIC_URL))
    try:
        with image.file.open("rb") as handle:
            data = handle.read()
    except OSError:
        raise _gone(name) from None
    checked = CheckedImage(
        data, image.content_type, EXTENSIONS.get(image.content_type, "bin"), image.width or 0, image.height or 0
    )
    return input_image_store(owner, checked), data


def input_token(value: Any) -> uuid.UUID | None:
    """The token of an uploaded image's public URL (`…/inputs/<token>/`), else None."""
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        return None
    match = _TOKEN_PATH.search(urlsplit(value).path)
    return uuid.UUID(match["token"]) if match else None


def input_images_link(prediction: Prediction, images: list[InputImage]) -> None:
    """Record that `prediction` was made with `images` (stored by `input_values_store`)."""
    if images:
        prediction.input_images.add(*images)


def input_images_discard(images: list[InputImage]) -> None:
    """Delete uploads whose prediction was not created (rows and files)."""
    for image in images:
        image.file.delete(save=False)
        if image.pk:
            InputImage.objects.filter(pk=image.pk).delete()


# --- Pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputShown:
    """One input value as a page shows it: text, and for an uploaded image a link to it
    that checks who asks (never its public URL)."""

    text: str
    url: str = ""


def _data_url_size(url: str) -> int:
    """Bytes of the file inside a base64 `data:` URL, without decoding it."""
    encoded = url.partition(",")[2].strip()
    return max(0, len(encoded) * 3 // 4 - encoded[-2:].count("="))


def inputs_shown(prediction: Prediction) -> list[tuple[str, list[InputShown]]]:
    """The inputs sent, for reading: uploaded images are named (and linked), never printed."""
    images = {image.token: image for image in prediction.input_images.all()}
    shown = []
    for name, value in prediction.input.items():
        items = []
        for item in value if isinstance(value, list) else [value]:
            token = input_token(item)
            if isinstance(item, str) and item.startswith("data:"):
                size = filesizeformat(_data_url_size(item))
                items.append(InputShown(_("an uploaded image (%(size)s)") % {"size": size}))
            elif token is None:
                items.append(InputShown(str(item)))
            elif token in images:
                url = reverse("predictions:input", args=[prediction.pk, images[token].pk])
                items.append(InputShown(_("an uploaded image"), url))
            else:
                items.append(InputShown(_("an uploaded image, no longer stored")))
        shown.append((name, items))
    return shown


def input_values_for_form(prediction: Prediction, values: dict[str, Any], *, site_url: str) -> dict[str, Any]:
    """`values` from `prediction`'s input for "Edit and run": each uploaded image's public URL
    becomes its page link at `site_url` (which `input_values_store` copies from, for whoever may
    see the prediction); an image no longer stored is left out."""
    images = {image.token: image for image in prediction.input_images.all()}

    def link(item: Any) -> Any:
        token = input_token(item)
        if token is None:
            return item
        if token not in images:
            return None
        return site_url + reverse("predictions:input", args=[prediction.pk, images[token].pk])

    form_values: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, list):
            form_values[name] = [item for item in map(link, value) if item is not None]
        else:
            form_values[name] = link(value)
    return form_values


# --- Removal ----------------------------------------------------------------------------------


def input_images_release(prediction: Prediction) -> list[str]:
    """Unlink `prediction`'s uploaded images, deleting those no prediction with kept files
    still uses. Called as its files are deleted (its `files_deleted_at` already set, in the
    caller's transaction); returns the stored file names for the caller to delete from storage
    once committed."""
    ids = set(prediction.input_images.values_list("pk", flat=True))
    if not ids:
        return []
    kept = set(
        InputImage.objects.filter(pk__in=ids, predictions__files_deleted_at__isnull=True).values_list("pk", flat=True)
    )
    doomed = InputImage.objects.filter(pk__in=ids - kept)
    names = [name for name in doomed.values_list("file", flat=True) if name]
    doomed.delete()
    prediction.input_images.clear()
    return names


def input_images_purge(*, now: datetime | None = None) -> int:
    """Delete uploads no prediction uses that are older than ORPHAN_AGE (the files once the
    rows are gone); returns how many. Run by a beat task."""
    now = now or timezone.now()
    with transaction.atomic():
        orphans = InputImage.objects.filter(created_at__lt=now - ORPHAN_AGE, predictions__isnull=True)
        rows = list(orphans.order_by("pk").values_list("pk", "file")[:PURGE_BATCH])
        if not rows:
            return 0
        InputImage.objects.filter(pk__in=[pk for pk, _name in rows], predictions__isnull=True).delete()
        names = [name for _pk, name in rows if name]
        transaction.on_commit(lambda: storage_files_delete(names))
    logger.info("input images purged: %d uploads no prediction was made with", len(rows))
    return len(rows)


def storage_files_delete(names: list[str]) -> None:
    """Delete stored files by name, after the transaction that dropped their rows committed;
    a file that cannot be deleted is logged, not raised (its row is gone either way)."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # the disk's OSError, or an object store's client or connection error
            logger.exception("could not delete stored file %s", name)
