"""Image work: the CPU DeerWeb spends on each stored output, per image and per megapixel.

What the worker does to every downloaded output before saving it (`predictions.storing`): open it
and check its format, decode it whole, shrink it to the thumbnail size and encode the thumbnail as
WebP. Run here in this process, single-threaded, on the files a full-size simulator serves
(`deerapi.simulator --output-size full`: noise under a gradient, about as heavy as real pictures),
at each `--megapixels` (square) in each `--formats`. The pipeline benchmark's worker CPU includes
this work once per output; `bench pipeline --output-size full` shows it at 1 MP.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time

from . import harness
from .harness import BenchError

FORMATS = ("webp", "png", "jpg")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--megapixels", type=float, nargs="+", default=[0.25, 1.0, 2.0, 4.0], help="image sizes (1 MP: 1024×1024)"
    )
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--quality", type=int, default=80, help="the webp and jpg outputs' quality, as DeerAPI's")
    parser.add_argument("--repeats", type=int, default=15, help="times each image is stored; the median is shown")


def _django() -> None:
    """DeerWeb's settings in this process; no database is used."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DATABASE_URL": f"sqlite:///{tempfile.gettempdir()}/deerweb-bench-images-unused.sqlite3",
            "CELERY_BROKER_URL": "memory://",
            "DEERWEB_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def run(args: argparse.Namespace) -> int:
    if args.repeats < 1 or any(mp <= 0 for mp in args.megapixels):
        raise BenchError("--repeats and --megapixels must be positive")
    _django()
    from deerapi.simulator.images import content_type, full_size, render_full

    # The worker's own step: format check, full decode, thumbnail, WebP encode. Private to
    # predictions.storing; measured as it is so the figure is the worker's.
    from predictions.storing import _inspect

    print("== Images: decoding and thumbnailing one stored output, per megapixel ==")
    print(f"Command: {harness.command_line()}")
    print(f"Machine: {os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.2f}")
    print(
        f"Each image stored {args.repeats} times by predictions.storing's inspection (decode + thumbnail); "
        "CPU time of this process, median"
    )
    print(flush=True)
    rows = []
    for extension in args.formats:
        for megapixels in args.megapixels:
            width, height = full_size({"megapixels": f"{megapixels:g}"})
            data = render_full(extension, width, height, args.quality, "bench-images/0")
            declared = content_type(extension)
            times = []
            for _ in range(args.repeats):
                begun = time.process_time()
                stored = _inspect(0, "bench-images", data, declared)
                times.append(time.process_time() - begun)
            if stored.thumbnail is None or (stored.width, stored.height) != (width, height):
                raise BenchError(f"{extension} {width}×{height} was not stored as an image")
            median = statistics.median(times) * 1000
            real_megapixels = width * height / 1_000_000
            rows.append(
                [
                    extension,
                    f"{width}×{height} ({real_megapixels:.2f} MP)",
                    f"{len(data) / 1000:,.0f} KB",
                    f"{median:.1f} ms",
                    f"{median / real_megapixels:.1f} ms",
                    f"{len(stored.thumbnail) / 1000:.0f} KB",
                ]
            )
    headers = ["Format", "Size", "File", "CPU per image", "CPU per MP", "Thumbnail"]
    print(harness.table(headers, rows))
    return 0
