"""A prediction as Replicate's API shows one: what DeerWeb's API answers and its webhooks send.

Statuses map onto Replicate's five. DeerWeb's own steps before DeerAPI has the prediction
(`queued`, `submitting`) are `starting`, and saving its images (`storing`) is
`processing`: `succeeded` means the images are stored here and their URLs answer, as on
the web pages. *Outcome unknown* is `failed`, with the reason as its error: the create was
sent but DeerAPI's answer never came, so DeerWeb will never have images for it (an admin's
resolution ends it as failed too, and settles only the money); a client waiting for a
change that cannot come would wait forever.

Outputs are DeerWeb's stored copies, at signed URLs that expire (DEERWEB_API_OUTPUT_URL_TTL)
and need no token, so a script can hand them to anything that fetches a URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext

from catalog import selectors as catalog_selectors
from catalog import specs as catalog
from predictions.models import Prediction, PredictionOutput, Status

STATUS = {
    Status.QUEUED: "starting",
    Status.SUBMITTING: "starting",
    Status.STARTING: "starting",
    Status.PROCESSING: "processing",
    Status.STORING: "processing",
    Status.SUCCEEDED: "succeeded",
    Status.FAILED: "failed",
    Status.CANCELED: "canceled",
    Status.UNKNOWN: "failed",
}
TERMINAL = frozenset({"succeeded", "failed", "canceled"})
_OUTPUT_SALT = "deerweb.replicate.output"


def replicate_status(status: str) -> str:
    return STATUS[Status(status)]


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def output_url_sign(output: PredictionOutput, base_url: str) -> str:
    """An absolute URL of a stored output that answers without login until it expires."""
    value = signing.TimestampSigner(salt=_OUTPUT_SALT).sign(str(output.pk))
    name = f"out-{output.index}.{output.extension}"
    return base_url + reverse("signed_output", args=[value, name])


def output_from_signature(value: str) -> PredictionOutput | None:
    """The output a signed URL names, or None when the signature is bad or expired, or its
    prediction's files were deleted (rejected, say)."""
    try:
        pk = signing.TimestampSigner(salt=_OUTPUT_SALT).unsign(value, max_age=settings.API_OUTPUT_URL_TTL)
    except signing.BadSignature:
        return None
    return (
        PredictionOutput.objects.select_related("prediction")
        .filter(pk=int(pk), prediction__files_deleted_at__isnull=True)
        .first()
    )


def _output(prediction: Prediction, base_url: str) -> Any:
    if prediction.status != Status.SUCCEEDED or prediction.files_deleted_at:
        return None
    urls = [output_url_sign(output, base_url) for output in prediction.outputs.all()]
    if _output_shape(prediction.model_id) == "list":
        return urls
    return urls[0] if len(urls) == 1 else urls or None


def _output_shape(model_id: str) -> str | None:
    """The model's output shape: from the code catalog (no query), else its admin settings."""
    spec = catalog.get_model(model_id)
    if spec is not None:
        return spec.output
    spec = catalog_selectors.model_get(model_id)
    return spec.output if spec is not None else None


def _error(prediction: Prediction) -> str | None:
    if prediction.status == Status.UNKNOWN:
        explanation = gettext(
            "DeerWeb sent this prediction to DeerAPI but its answer never arrived, so it has no images. "
            "An admin can check DeerAPI's dashboard and settle what it cost."
        )
        return f"{explanation} {prediction.error}".strip()
    if prediction.status in (Status.FAILED, Status.CANCELED):
        return prediction.error or None
    return None


def _metrics(prediction: Prediction) -> dict[str, Any]:
    metrics = {k: v for k, v in (prediction.metrics or {}).items() if isinstance(v, int | float) and k != "image_count"}
    if prediction.completed_at:
        metrics["total_time"] = round((prediction.completed_at - prediction.created_at).total_seconds(), 3)
    return metrics


def prediction_as_replicate(prediction: Prediction, base_url: str) -> dict[str, Any]:
    """The prediction in Replicate's shape, with every URL under `base_url` (scheme and host).

    Reads `prediction.outputs` (prefetch it when listing)."""
    api = base_url + "/replicate/v1/predictions/" + str(prediction.pk)
    return {
        "id": str(prediction.pk),
        "model": prediction.model_id,
        "version": prediction.model_id,
        "input": prediction.input,
        "output": _output(prediction, base_url),
        "logs": prediction.logs or "",
        "error": _error(prediction),
        "status": replicate_status(prediction.status),
        "source": prediction.via,
        "data_removed": prediction.files_deleted_at is not None,
        "created_at": _iso(prediction.created_at),
        "started_at": _iso(prediction.started_at or prediction.submitted_at),
        "completed_at": _iso(prediction.completed_at) if replicate_status(prediction.status) in TERMINAL else None,
        "metrics": _metrics(prediction),
        "urls": {
            "get": api,
            "cancel": api + "/cancel",
            "web": base_url + prediction.get_absolute_url(),
        },
    }
