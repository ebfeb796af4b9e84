"""What the API does for a member: create predictions from Replicate-style bodies, page
through them, and take uploaded files for their image inputs."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from api import schema
from api.errors import ApiError, invalid_input, not_found
from billing import services as billing
from catalog import selectors as catalog_selectors
from predictions import services, uploads
from predictions.models import InputImage, Prediction
from webhooks.services import WEBHOOK_EVENTS_DEFAULT, webhook_subscribe
from webhooks.targets import WebhookError, webhook_url_check

if TYPE_CHECKING:
    from accounts.models import ApiToken
    from predictions.models import User

PAGE_SIZE = 100
# How long an uploaded file may be used as an input (an unused upload is purged after a day).
FILE_LIFETIME = uploads.ORPHAN_AGE
_FILE_PATH = re.compile(r"^/replicate/v1/files/(?P<id>\d{1,18})$")


def model_id_from_version(version: Any) -> str:
    """`version` of `POST /v1/predictions` names a model here: "owner/name" (or "name"), with
    an optional ":version" part, which DeerWeb ignores (it runs DeerAPI's current one), or the
    bare id of a model's version as `latest_version.id` shows it (what `run("owner/name:<id>")`
    sends)."""
    if not isinstance(version, str) or not version.strip():
        raise ApiError(
            422, "Input validation failed", "`version` must name a model, e.g. black-forest-labs/flux-schnell."
        )
    value = version.strip()
    if _VERSION_ID.fullmatch(value):
        for spec in catalog_selectors.models_enabled():
            if schema.version_id(spec.id) == value:
                return spec.id
        raise ApiError(
            404,
            "Not found",
            "No model of DeerWeb has this version id. Name the model instead (`owner/name`), or use the "
            "id its `latest_version` shows: DeerWeb keeps one version of each model.",
        )
    return value.split(":", 1)[0]


_VERSION_ID = re.compile(r"[0-9a-f]{64}")


def _quota_error(exc: billing.QuotaExceeded) -> ApiError:
    if exc.limit == billing.Limit.IN_FLIGHT:
        return ApiError(429, "Too many predictions in flight", exc.message, headers={"Retry-After": "5"})
    if exc.limit == billing.Limit.MODEL:
        return ApiError(403, "Model not allowed", exc.message)
    return ApiError(402, "Budget exceeded", exc.message)


def _file_inputs(user: User, input: dict[str, Any], hosts: frozenset[str]) -> tuple[dict[str, Any], list[InputImage]]:
    """Replace each input that is the URL of one of the member's uploaded files
    (`POST /v1/files`) by what DeerAPI can fetch; returns the input and the images used."""
    used: list[InputImage] = []

    def resolve(name: str, value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(name, item) for item in value]
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            return value
        parts = urlsplit(value)
        match = _FILE_PATH.match(parts.path)
        if parts.netloc not in hosts or match is None:
            return value
        image = InputImage.objects.filter(pk=int(match["id"]), owner=user).first()
        if image is None:
            raise invalid_input({name: "This file was not found: upload it again with POST /v1/files."})
        try:
            with image.file.open("rb") as handle:
                data = handle.read()
        except OSError:
            raise invalid_input({name: "This file is no longer available: upload it again."}) from None
        if image.size > uploads.INLINE_MAX_BYTES and not settings.PUBLIC_URL:
            raise invalid_input({name: str(uploads.NEEDS_PUBLIC_URL)})
        used.append(image)
        return uploads.input_image_url(image, data)

    return {name: resolve(name, value) for name, value in input.items()}, used


def api_prediction_create(*, token: ApiToken, model_id: str, body: Any, hosts: frozenset[str]) -> Prediction:
    """A prediction from a create body (`{"input": {...}}`), as the token's member.

    Raises ApiError: 404 for a model DeerWeb does not offer, 422 for a bad input, 402 when a
    budget refuses it, 429 when the in-flight limit does, 403 for a model the member may not use."""
    if not isinstance(body, dict):
        raise ApiError(400, "Bad request", "The body must be a JSON object with an `input` object.")
    input = body.get("input", {})
    if not isinstance(input, dict):
        raise ApiError(422, "Input validation failed", "`input` must be a JSON object.")
    if catalog_selectors.model_get(model_id) is None:
        raise not_found("model")
    webhook = body.get("webhook")
    events = body.get("webhook_events_filter", list(WEBHOOK_EVENTS_DEFAULT))
    if webhook is not None:
        if not isinstance(webhook, str):
            raise _webhook_invalid("webhook", "`webhook` must be a URL (a string).")
        if not isinstance(events, list):
            raise _webhook_invalid("webhook_events_filter", "`webhook_events_filter` must be a list of events.")
        try:
            webhook_url_check(webhook)  # resolves the host: before the transaction's locks
        except WebhookError as exc:
            raise _webhook_invalid(exc.field, exc.message) from None
    user = token.user
    try:
        with transaction.atomic():
            data, images = _file_inputs(user, input, hosts)
            prediction = services.prediction_create(owner=user, model_id=model_id, input=data, via_token=token.name)
            uploads.input_images_link(prediction, images)
            if webhook is not None:
                webhook_subscribe(prediction, webhook, events)
    except services.PredictionInputError as exc:
        raise invalid_input(exc.errors) from None
    except billing.QuotaExceeded as exc:
        raise _quota_error(exc) from None
    except WebhookError as exc:
        raise _webhook_invalid(exc.field, exc.message) from None
    return prediction


def _webhook_invalid(field: str, message: str) -> ApiError:
    return ApiError(
        422,
        "Input validation failed",
        f"- {field}: {message}\n",
        invalid_fields=[{"type": "invalid", "field": field, "description": message}],
    )


def prediction_of(user: User, pk: str) -> Prediction:
    """One of the member's own predictions, else 404 (also for another member's)."""
    if not pk.isdigit() or len(pk) > 18:
        raise not_found()
    prediction = Prediction.objects.prefetch_related("outputs").filter(pk=int(pk), owner=user).first()
    if prediction is None:
        raise not_found()
    return prediction


def prediction_cancel(user: User, pk: str) -> Prediction:
    prediction = prediction_of(user, pk)
    services.prediction_cancel(prediction)
    return prediction_of(user, pk)


# --- Listing, newest first, with cursors -------------------------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list[Prediction]
    next: str | None  # cursor to the older page
    previous: str | None  # cursor to the newer page


def _cursor(row: Prediction, direction: str) -> str:
    raw = f"{direction}|{row.created_at.isoformat()}|{row.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_read(cursor: str) -> tuple[str, datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        direction, moment, pk = raw.split("|")
        created = parse_datetime(moment)
        if direction not in ("next", "prev") or created is None:
            raise ValueError(raw)
        return direction, created, int(pk)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Bad request", "The `cursor` is not one this API handed out.") from None


def _moment(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    message = f"`{name}` must be an ISO 8601 date and time, e.g. 2026-12-01T00:00:00Z."
    try:
        moment = parse_datetime(value)
        if moment is None:
            raise ValueError(value)
        # In UTC: PostgreSQL takes offsets of at most ±15:59, ISO 8601 up to ±23:59.
        return moment.astimezone(UTC) if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise ApiError(400, "Bad request", message) from None


def predictions_page(
    user: User, *, cursor: str | None, created_after: str | None, created_before: str | None, size: int | None = None
) -> Page:
    """The member's predictions (web and API), newest first, PAGE_SIZE at a time.

    Keyset paging on (created_at, id), served by the (owner, -created_at) index."""
    size = size or PAGE_SIZE
    qs: QuerySet[Prediction] = Prediction.objects.filter(owner=user).prefetch_related("outputs")
    after, before = _moment("created_after", created_after), _moment("created_before", created_before)
    if after:
        qs = qs.filter(created_at__gt=after)
    if before:
        qs = qs.filter(created_at__lt=before)
    if cursor:
        direction, created, pk = _cursor_read(cursor)
        if direction == "next":
            older = Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk)
            rows = list(qs.filter(older).order_by("-created_at", "-pk")[: size + 1])
            more_newer = True
        else:
            newer = Q(created_at__gt=created) | Q(created_at=created, pk__gt=pk)
            rows = list(qs.filter(newer).order_by("created_at", "pk")[: size + 1])
            has_more = len(rows) > size
            rows = list(reversed(rows[:size]))
            return Page(
                rows,
                _cursor(rows[-1], "next") if rows else None,
                _cursor(rows[0], "prev") if rows and has_more else None,
            )
    else:
        rows = list(qs.order_by("-created_at", "-pk")[: size + 1])
        more_newer = False
    has_older = len(rows) > size
    rows = rows[:size]
    return Page(
        rows,
        _cursor(rows[-1], "next") if rows and has_older else None,
        _cursor(rows[0], "prev") if rows and more_newer else None,
    )


# --- Files -------------------------------------------------------------------------------------


def file_create(user: User, upload: UploadedFile | None) -> InputImage:
    """An uploaded image (multipart field `content`) kept for use as an input."""
    if upload is None:
        raise ApiError(422, "Input validation failed", "Send the file in a multipart field named `content`.")
    try:
        checked = uploads.image_check(upload)
    except ValidationError as exc:
        raise ApiError(422, "Input validation failed", " ".join(exc.messages)) from None
    stored = uploads.input_image_store(user, checked)
    return _files(user).get(pk=stored.pk)


def file_of(user: User, pk: str) -> InputImage:
    if not pk.isdigit() or len(pk) > 18:
        raise not_found("file")
    image = _files(user).filter(pk=int(pk)).first()
    if image is None:
        raise not_found("file")
    return image


def file_delete(user: User, pk: str) -> None:
    image = file_of(user, pk)
    if getattr(image, "in_use", True):  # annotated by _files
        raise ApiError(409, "Conflict", "This file is an input of a prediction and stays with it.")
    uploads.input_images_discard([image])


def _files(user: User) -> QuerySet[InputImage]:
    """The member's uploads, each with `in_use`: is it an input of a prediction (then it stays)."""
    used = InputImage.predictions.through.objects.filter(inputimage_id=OuterRef("pk"))
    return InputImage.objects.filter(owner=user).annotate(in_use=Exists(used))


def _checksum(image: InputImage) -> str:
    """The upload's SHA-256, read from its file (and kept) only for uploads stored before it was kept."""
    if not image.sha256:
        try:
            with image.file.open("rb") as handle:
                image.sha256 = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            return ""
        InputImage.objects.filter(pk=image.pk).update(sha256=image.sha256)
    return image.sha256


def file_as_replicate(image: InputImage, base_url: str) -> dict[str, Any]:
    """A file in Replicate's shape; `image` comes from `_files` (it carries `in_use`)."""
    digest = _checksum(image)
    expires = None if getattr(image, "in_use", True) else image.created_at + FILE_LIFETIME
    return {
        "id": str(image.pk),
        "name": (image.file.name or "").rsplit("/", 1)[-1],
        "content_type": image.content_type,
        "size": image.size,
        "etag": digest,
        "checksums": {"sha256": digest},
        "metadata": {},
        "created_at": image.created_at.isoformat().replace("+00:00", "Z"),
        "expires_at": expires.isoformat().replace("+00:00", "Z") if expires else None,
        "urls": {"get": f"{base_url}/replicate/v1/files/{image.pk}"},
    }


def uploaded_files(user: User) -> list[InputImage]:
    """The member's uploaded files, newest first (the last PAGE_SIZE)."""
    return list(_files(user).order_by("-created_at", "-pk")[:PAGE_SIZE])
