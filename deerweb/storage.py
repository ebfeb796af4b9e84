"""Stored files on an S3-compatible object store (DEERWEB_S3_BUCKET; see settings.py and the README).

django-storages' S3 backend, with one change: a file opened for reading is the object's GET
response, read as it arrives. The stock backend first copies the whole object into a temporary
file (in memory unless AWS_S3_MAX_MEMORY_SIZE says otherwise), after a HEAD request, so a 50 MB
output would be fetched whole before its first byte reached the browser. DeerWeb streams stored
files itself, block by block, after its permission check (predictions/files.py), and the few
places that read a whole upload read it once, front to back.
"""

from __future__ import annotations

from typing import Any, Self

from botocore.exceptions import ClientError
from django.core.files.base import File
from storages.backends import s3
from storages.utils import clean_name


class ObjectReader(File):
    """An object of the bucket being read front to back; reopening it asks the store again."""

    def __init__(self, storage: S3Storage, name: str) -> None:
        self._storage = storage
        super().__init__(None, name)
        self.mode = "rb"
        self._get()

    def _get(self) -> None:
        key = self._storage._normalize_name(clean_name(self.name))
        try:
            answer = self._storage.bucket.Object(key).get()
        except ClientError as exc:
            if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise FileNotFoundError(f"no such object: {key}") from None
            raise
        self.file = answer["Body"]
        self.size = answer["ContentLength"]

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> Self:
        if mode not in (None, "rb"):
            raise ValueError("an object of the bucket is opened for reading only (mode 'rb')")
        self.close()
        self._get()
        return self

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class S3Storage(s3.S3Storage):
    """django-storages' S3 backend whose reads stream (ObjectReader); writes are its own."""

    def _open(self, name: str, mode: str = "rb") -> File:
        if mode != "rb":
            return super()._open(name, mode)
        return ObjectReader(self, name)
