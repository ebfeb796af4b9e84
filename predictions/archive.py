"""A .zip of predictions' stored outputs with metadata.json and metadata.csv, made as it is sent.

The archive is written to a buffer that is emptied after every write, so only the file being
added (and one block of output) is ever in memory however large the archive grows. Entries
are stored, not deflated: images are compressed already. The output being unseekable, zipfile
writes each entry's sizes after its data (a data descriptor) and Zip64 records as needed.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from django.utils.http import content_disposition_header

from common.responses import IteratorResponse
from predictions import metadata
from predictions.models import Prediction, PredictionOutput

BLOCK = 256 * 1024
ZIP64_ABOVE = 2**31 - 2**20  # an entry that may pass 2 GiB with its metadata needs Zip64 sizes
CSV_FIELDS = ("id", "member", "model", "prompt", "inputs", "seed", "created", "cost", "review_state", "files")


class _Drain(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are taken out as soon as they are written."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def output_name(output: PredictionOutput, extension: str | None = None) -> str:
    """The name a stored output (or, with `extension` webp, its thumbnail) is downloaded as."""
    return f"deerweb-{output.prediction_id}-{output.index + 1}.{extension or output.extension}"


def _csv_text(records: list[dict[str, Any]]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for record in records:
        writer.writerow(
            {**record, "inputs": json.dumps(record["inputs"], ensure_ascii=False), "files": " ".join(record["files"])}
        )
    return text.getvalue()


def archive_stream(predictions: list[Prediction], *, embed: bool) -> Iterator[bytes]:
    """The .zip's bytes, part by part: each output (with its metadata when `embed`), then the
    records of every prediction as JSON and CSV. Reads files only, never the database: the
    predictions come with their prompts, members and outputs."""
    sink = _Drain()
    records = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for prediction in predictions:
            record = metadata.prediction_record(prediction)
            record["files"] = []
            for output in prediction.outputs.all():
                name = output_name(output)
                try:
                    with output.file.open("rb") as stored:
                        info = zipfile.ZipInfo(name, date_time=output.created_at.timetuple()[:6])
                        with archive.open(info, "w", force_zip64=output.size > ZIP64_ABOVE) as entry:
                            if embed and output.content_type in metadata.EMBEDDABLE:
                                entry.write(metadata.output_with_metadata(output, stored.read()))
                                yield sink.take()
                            else:
                                while block := stored.read(BLOCK):
                                    entry.write(block)
                                    yield sink.take()
                except FileNotFoundError:
                    continue  # gone from the storage since the rows were read: left out
                record["files"].append(name)
                yield sink.take()
            records.append(record)
        archive.writestr("metadata.json", json.dumps(records, ensure_ascii=False, indent=2))
        archive.writestr("metadata.csv", _csv_text(records))
    yield sink.take()


def archive_response(predictions: list[Prediction], *, filename: str) -> IteratorResponse:
    """The streamed .zip of `predictions` (read with their prompts, members and outputs: see
    `selectors.predictions_for_archive`) as a download named `filename`."""
    response = IteratorResponse(
        archive_stream(predictions, embed=metadata.embedding_enabled()), content_type="application/zip"
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
