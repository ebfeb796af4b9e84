"""Sending a stored file, once the caller has checked who may see it.

The file is streamed block by block from the storage, the local disk or an S3-compatible
bucket alike, so the response's headers are DeerWeb's own whatever the storage (an object
store cannot send a Content-Security-Policy or X-Content-Type-Options with an object).

In production nginx can send the bytes: with FILE_ACCEL_PREFIX (DEERWEB_FILE_ACCEL_PREFIX)
DeerWeb answers with an empty body and `X-Accel-Redirect: <prefix><file name>`, which nginx
serves from an `internal` location (see the README). The content type and disposition
are always ours, never the provider's; the caller adds its security headers either way.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from common.responses import FileResponse


def stored_file_response(
    stored: FieldFile, *, content_type: str, filename: str = "", download: bool = False
) -> HttpResponseBase:
    """The stored file as a response: the file itself, or an X-Accel-Redirect to it."""
    if not stored.name:  # an empty file field: no file to send
        raise Http404
    prefix = settings.FILE_ACCEL_PREFIX
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix + quote(stored.name)
        disposition = content_disposition_header(download, filename or posixpath.basename(stored.name))
        if disposition:
            response["Content-Disposition"] = disposition
        return response
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    streamed = FileResponse(handle, content_type=content_type, as_attachment=download, filename=filename)
    if not streamed.has_header("Content-Length"):
        # An object store's file is read as it arrives (deerweb/storage.py): its length came with it.
        streamed["Content-Length"] = handle.file.size
    return streamed


def stored_file_bytes(stored: FieldFile) -> bytes:
    """The whole stored file, for a response that changes it on the way (a download with metadata)."""
    if not stored.name:
        raise Http404
    try:
        with stored.open("rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise Http404 from None
