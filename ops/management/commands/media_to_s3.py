"""Move the stored files on this host's disk (MEDIA_ROOT) into the bucket DEERWEB_S3_BUCKET names.

Run with the S3 settings in the environment, on the host whose disk holds the files. Each file
keeps its name (the rows naming it need no change): it is copied unless the bucket has it
already, read back, and its SHA-256 compared with the local file's. A run that stops half-way
is finished by running it again. The local file is removed only with --delete-local, and only
once its copy has been read back whole.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

COPIED = "copied"
PRESENT = "already in the bucket"
CONFLICT = "in the bucket with other content: both kept, nothing removed"
CORRUPT = "read back with another SHA-256: removed from the bucket, local file kept"


def _names(storage: FileSystemStorage, folder: str = "") -> Iterator[str]:
    """Every file under `folder` of `storage`, by its storage name."""
    folders, files = storage.listdir(folder)
    for name in sorted(files):
        yield posixpath.join(folder, name)
    for sub in sorted(folders):
        yield from _names(storage, posixpath.join(folder, sub))


def _sha256(storage: Storage, name: str) -> str:
    digest = hashlib.sha256()
    with storage.open(name, "rb") as file:
        for chunk in file.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def media_move(local: FileSystemStorage, bucket: Storage, name: str) -> str:
    """Copy one file into the bucket unless it is there already; its outcome (one of the above)."""
    local_sha = _sha256(local, name)
    if bucket.exists(name):
        return PRESENT if _sha256(bucket, name) == local_sha else CONFLICT
    with local.open(name, "rb") as file:
        saved = bucket.save(name, file)
    if saved != name:  # the name was taken meanwhile: the copy got another one
        bucket.delete(saved)
        return CONFLICT
    if _sha256(bucket, name) != local_sha:
        bucket.delete(name)
        return CORRUPT
    return COPIED


class Command(BaseCommand):
    help = (
        "Move the stored files on local disk (MEDIA_ROOT) into the S3 bucket DEERWEB_S3_BUCKET names, "
        "each checked by SHA-256; safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete-local",
            action="store_true",
            help="remove each local file once its copy in the bucket has been read back with the same SHA-256",
        )
        parser.add_argument(
            "--from",
            dest="source",
            metavar="FOLDER",
            help="the folder holding the files (default: MEDIA_ROOT)",
        )

    def handle(self, *args: Any, delete_local: bool, source: str | None, **options: Any) -> None:
        bucket = storages["default"]
        if isinstance(bucket, FileSystemStorage):
            raise CommandError(
                "Stored files are on local disk in this configuration: set DEERWEB_S3_BUCKET "
                "(and DEERWEB_S3_ENDPOINT_URL for a store other than AWS S3) to move them into a bucket."
            )
        folder = Path(source or settings.MEDIA_ROOT)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder: nothing to move (--from names another)")
        local = FileSystemStorage(location=folder)
        names = list(_names(local))
        self.stdout.write(f"{len(names)} files under {folder}")
        outcomes: Counter[str] = Counter()
        removed = 0
        for number, name in enumerate(names, 1):
            outcome = media_move(local, bucket, name)
            outcomes[outcome] += 1
            line = f"[{number}/{len(names)}] {name} ({local.size(name):,} bytes): {outcome}"
            if delete_local and outcome in (COPIED, PRESENT):
                local.delete(name)
                removed += 1
                line += ", local file removed"
            self.stdout.write(line)
        summary = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items()) or "nothing to move"
        self.stdout.write(f"Done: {summary}; {removed} local files removed.")
        failed = outcomes[CONFLICT] + outcomes[CORRUPT]
        if failed:
            raise CommandError(f"{failed} files were not moved (see above); their local copies are kept.")
