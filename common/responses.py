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


class IteratorResponse(http.StreamingHttpResponse):
    """A streamed response made by a sync iterator, pulled part by part under ASGI too.

    Django's ASGI handler would otherwise read a sync iterator whole into a list before sending
    it. The iterator must not use the database (it runs in the thread pool): read rows first.
    """

    async def __aiter__(self) -> AsyncIterator[bytes]:
        parts = iter(cast(Iterator[bytes], self.streaming_content))
        pull = sync_to_async(_next_part, thread_sensitive=False)
        while (part := await pull(parts)) is not None:
            yield part


def _next_part(parts: Iterator[bytes]) -> bytes | None:
    return next(parts, None)
