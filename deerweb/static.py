"""Static files, sent by WhiteNoise, streamed block by block under ASGI too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware

from common.responses import FileResponse


class StaticFileResponse(FileResponse):
    """WhiteNoise sets every header itself (as its WhiteNoiseFileResponse does)."""

    def set_headers(self, filelike: Any) -> None:
        pass


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, answering with a StaticFileResponse (common.responses: async-streamed).

    Async-capable, so under ASGI the middleware chain stays async: one sync-only middleware
    would make Django run the whole chain below it in a thread that stays blocked while an
    async view waits (`Prefer: wait`)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        super().__init__(get_response)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        static_file = self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)
        if static_file is not None:
            return self.serve(static_file, request)
        response: Awaitable[HttpResponseBase] = self.get_response(request)
        return await response

    @staticmethod
    def serve(static_file: Any, request: HttpRequest) -> StaticFileResponse:
        response = static_file.get_response(request.method, request.META)
        http_response = StaticFileResponse(response.file or (), status=int(response.status))
        del http_response["content-type"]
        for key, value in response.headers:
            http_response[key] = value
        return http_response
