"""Storing a succeeded prediction's images: download each output (size and type checked,
SVGs parsed safely), make its thumbnail, save both, and only then mark it succeeded."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

import requests
from defusedxml import DefusedXmlException, ElementTree
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from common import http
from ops import notifier
from predictions import services
from predictions.models import (
    Prediction,
    PredictionOutput,
    Status,
)

logger = logging.getLogger(__name__)

STORE_LEASE = timedelta(seconds=settings.STORE_TIME_LIMIT + settings.LEASE_MARGIN)


THUMBNAIL_SIZE = (384, 384)


RASTER_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


MAX_PIXELS = 64_000_000


class DownloadError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class StoredFile:
    index: int
    source_url: str
    data: bytes
    content_type: str
    width: int | None
    height: int | None
    thumbnail: bytes | None


_sessions = threading.local()


def _session() -> requests.Session:
    """This thread's session for provider files: kept-alive connections, one more try for a
    GET whose kept-alive connection had been closed by the other end."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = http.Session()
        adapter = HTTPAdapter(max_retries=Retry(total=1, connect=1, read=1, status=0, redirect=0, other=0))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _sessions.session = session
    return session


def _download(url: str) -> tuple[bytes, str]:
    """Fetch one provider file within the size limit. No DeerAPI key is sent."""
    limit = settings.OUTPUT_MAX_BYTES
    try:
        with _session().get(
            url,
            stream=True,
            timeout=(settings.DEERAPI_CONNECT_TIMEOUT, settings.DEERAPI_READ_TIMEOUT),
            headers={"User-Agent": "DeerWeb/0.1"},
        ) as response:
            if response.status_code in (403, 404, 410):
                raise DownloadError(
                    _("DeerAPI's output files expired before DeerWeb could store them."), permanent=True
                )
            if response.status_code >= 400:
                raise DownloadError(f"HTTP {response.status_code}", permanent=response.status_code < 500)
            declared = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if declared and not declared.startswith("image/") and declared != "application/octet-stream":
                raise DownloadError(
                    _("The output is not an image (it was sent as %(type)s).") % {"type": declared},
                    permanent=True,
                )
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                raise DownloadError(
                    _("The output file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}, permanent=True
                )
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_content(64 * 1024):
                total += len(chunk)
                if total > limit:
                    raise DownloadError(
                        _("The output file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}, permanent=True
                    )
                chunks.append(chunk)
            return b"".join(chunks), declared
    except requests.RequestException as exc:
        raise DownloadError(f"download failed: {exc.__class__.__name__}", permanent=False) from exc


def _inspect(index: int, url: str, data: bytes, declared: str) -> StoredFile:
    """Decide the content type from the bytes themselves, and make a thumbnail."""
    if declared == "image/svg+xml" or data.lstrip()[:5] in (b"<?xml", b"<svg ") or data.lstrip()[:4] == b"<svg":
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError:
            raise DownloadError(_("The output is not a valid image."), permanent=True) from None
        except DefusedXmlException:
            raise DownloadError(
                _(
                    "The output SVG declares XML entities, which DeerWeb refuses: they can make it "
                    "use up memory or read other files."
                ),
                permanent=True,
            ) from None
        if not root.tag.endswith("svg"):
            raise DownloadError(_("The output is not a valid image."), permanent=True)
        return StoredFile(index, url, data, "image/svg+xml", None, None, None)
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            if fmt not in RASTER_FORMATS:
                raise DownloadError(_("The output is not a supported image."), permanent=True)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise DownloadError(_("The output image is too large."), permanent=True)
            image.load()
            thumb = (
                image
                if image.mode in ("RGB", "RGBA")
                else image.convert("RGBA" if image.mode in ("LA", "P", "PA") else "RGB")
            )
            thumb.thumbnail(THUMBNAIL_SIZE)
            buffer = io.BytesIO()
            # method 0: the fastest encoder, a third of the default's time for a slightly larger file.
            thumb.save(buffer, "WEBP", quality=80, method=0)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise DownloadError(_("The output is not a valid image."), permanent=True) from None
    return StoredFile(index, url, data, RASTER_FORMATS[fmt], width, height, buffer.getvalue())


def _fetch(index: int, url: str) -> StoredFile:
    data, declared = _download(url)
    return _inspect(index, url, data, declared)


def prediction_store_outputs(prediction_id: int, *, lease: str | None = None) -> None:
    """Copy every output of a succeeded prediction into our storage, then finish it.

    Idempotent: outputs already stored are kept and not fetched again.
    """
    now = timezone.now()
    claimed = Prediction.objects.filter(services.due(now, lease), pk=prediction_id, status=Status.STORING).update(
        next_poll_at=now + STORE_LEASE, attempts=F("attempts") + 1
    )
    if not claimed:
        return
    prediction = Prediction.objects.get(pk=prediction_id)
    with services.in_language(prediction.language):
        store_claimed(prediction, stored=set(prediction.outputs.values_list("index", flat=True)))


def store_claimed(prediction: Prediction, *, stored: set[int]) -> None:
    """The store of a prediction claimed in `storing`, whose outputs `stored` are kept already."""
    prediction_id = prediction.pk
    todo = [(i, url) for i, url in enumerate(prediction.remote_output) if i not in stored]
    errors: list[DownloadError] = []
    if len(todo) == 1:  # most predictions: no thread to start
        try:
            _save_output(prediction, _fetch(*todo[0]))
        except DownloadError as exc:
            errors.append(exc)
    elif todo:
        with ThreadPoolExecutor(max_workers=min(4, len(todo))) as pool:
            futures = [pool.submit(_fetch, i, url) for i, url in todo]
            for future in futures:
                try:
                    _save_output(prediction, future.result())
                except DownloadError as exc:
                    errors.append(exc)
    if not errors:
        services.prediction_transition(
            prediction_id,
            Status.STORING,
            Status.SUCCEEDED,
            entered_via=prediction.via,
            completed_at=timezone.now(),
            next_poll_at=None,
            error="",
        )
        return
    permanent = [e for e in errors if e.permanent]
    if permanent or prediction.attempts >= settings.DOWNLOAD_MAX_ATTEMPTS:
        services.prediction_fail(prediction_id, Status.STORING, (permanent or errors)[0].message)
        return
    delay = services.jittered(services.backoff(prediction.attempts))
    logger.info("prediction=%s download failed (%s); retry in %.0fs", prediction_id, errors[0].message, delay)
    with transaction.atomic():
        if Prediction.objects.filter(pk=prediction_id, status=Status.STORING).update(
            next_poll_at=timezone.now() + timedelta(seconds=delay)
        ):
            services.enqueue("store", prediction_id, countdown=delay)
            if len(errors) < len(todo):  # some outputs stored: the others follow in the next try
                notifier.notify(prediction_id)


def _save_output(prediction: Prediction, stored: StoredFile) -> None:
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif", "image/svg+xml": "svg"}[
        stored.content_type
    ]
    output = PredictionOutput(
        prediction=prediction,
        index=stored.index,
        source_url=stored.source_url[:2000],
        content_type=stored.content_type,
        size=len(stored.data),
        width=stored.width,
        height=stored.height,
        checksum=hashlib.sha256(stored.data).hexdigest(),
    )
    output.file.save(f"{prediction.pk}-{stored.index}.{ext}", ContentFile(stored.data), save=False)
    if stored.thumbnail:
        output.thumbnail.save(f"{prediction.pk}-{stored.index}.webp", ContentFile(stored.thumbnail), save=False)
    try:
        # Inside a caller's transaction, a savepoint keeps a duplicate from breaking it.
        with transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext():
            output.save()
    except IntegrityError:
        # Another worker stored this index first; keep theirs.
        output.file.delete(save=False)
        if output.thumbnail:
            output.thumbnail.delete(save=False)
