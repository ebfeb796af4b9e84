"""Sending a stored output (or its thumbnail) with DeerWeb's headers, for whichever view checked access."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from predictions import archive, files, metadata
from predictions.models import PredictionOutput


def output_response(output: PredictionOutput, field: str, *, download: bool) -> HttpResponseBase:
    """The stored `field` ("file" or "thumbnail") of `output`, once the caller has checked who may see it,
    with the headers every stored file is sent with: nothing in it may run."""
    stored = getattr(output, field)
    if not stored:
        raise Http404
    content_type = output.content_type if field == "file" else "image/webp"
    name = archive.output_name(output, output.extension if field == "file" else "webp")
    response: HttpResponseBase
    if download and field == "file" and output.content_type in metadata.EMBEDDABLE and metadata.embedding_enabled():
        # A download carries how it was made; the stored file (and the inline view) stay as DeerAPI sent them.
        data = metadata.output_with_metadata(output, files.stored_file_bytes(stored))
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, name)
        response["Cache-Control"] = "private, no-cache"
    else:
        # The file itself, or (DEERWEB_FILE_ACCEL_PREFIX) an X-Accel-Redirect for nginx to send it.
        response = files.stored_file_response(stored, content_type=content_type, filename=name, download=download)
        response["Cache-Control"] = "private, max-age=86400"
    # Our content type, never the provider's; and nothing in the file may run.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response
