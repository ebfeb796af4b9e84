"""Static files, sent by WhiteNoise, streamed block by block under ASGI too."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from whitenoise.middleware import WhiteNoiseMiddleware

from common.responses import FileResponse


class StaticFileResponse(FileResponse):
    """WhiteNoise sets every header itself (as its WhiteNoiseFileResponse does)."""

    def set_headers(self, filelike: Any) -> None:
        pass


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, answering with a StaticFileResponse (common.responses: async-streamed)."""

    @staticmethod
    def serve(static_file: Any, request: HttpRequest) -> StaticFileResponse:
        response = static_file.get_response(request.method, request.META)
        http_response = StaticFileResponse(response.file or (), status=int(response.status))
        del http_response["content-type"]
        for key, value in response.headers:
            http_response[key] = value
        return http_response
