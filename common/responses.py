"""Responses that stream a file under ASGI as they do under WSGI: block by block, never whole."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import cast

from asgiref.sync import sync_to_async
from django import http


class FileResponse(http.FileResponse):
    """Django's FileResponse, with an async iterator for ASGI servers (deerweb/asgi.py).

    Django's own has only a sync one, which its ASGI handler reads whole into memory in one
    thread call (warning each time): a 50 MB image would be 50 MB of one request's memory. Here
    each block is read in the event loop's thread pool as it is sent.
    """

    async_block_size = 256 * 1024

    async def __aiter__(self) -> AsyncIterator[bytes]:
        file = self.file_to_stream
        if file is None:  # an iterable in memory, not a file (an empty body, say): nothing to read
            for part in cast(Iterator[bytes], self.streaming_content):
                yield part
            return
        read = sync_to_async(file.read, thread_sensitive=False)
        while chunk := await read(self.async_block_size):
            yield chunk
