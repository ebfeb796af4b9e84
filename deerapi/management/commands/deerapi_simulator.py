"""Run the DeerAPI simulator in the foreground (sandbox mode for `make run`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from deerapi.simulator import Simulator
from deerapi.simulator.images import OUTPUT_SIZES
from deerapi.simulator.server import LOG_MODES
from deerapi.simulator.webhooks import WEBHOOK_MODES


class Command(BaseCommand):
    help = "Serve a stand-in for DeerAPI's Replicate-style predictions API until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=settings.SIMULATOR_PORT, help="Port to listen on.")
        parser.add_argument(
            "--key",
            default=None,
            help="The Bearer key clients must send (default: DEERAPI_KEY from the settings).",
        )
        parser.add_argument("--starting-seconds", type=float, default=1.0, help="Time spent in `starting`.")
        parser.add_argument("--processing-seconds", type=float, default=3.0, help="Time spent in `processing`.")
        parser.add_argument(
            "--file-ttl",
            type=float,
            default=3600.0,
            help="Seconds output files stay downloadable after a prediction ends.",
        )
        parser.add_argument("--log-requests", action="store_true", help="Print a line for every request.")
        parser.add_argument(
            "--output-size",
            choices=OUTPUT_SIZES,
            default="small",
            help="Output images 256 px on the long side, or the size the input asks for, as heavy as real ones.",
        )
        parser.add_argument(
            "--logs",
            choices=LOG_MODES,
            default="progress",
            help="Progress bars in the predictions' logs (as Replicate's image models print), or none.",
        )
        parser.add_argument(
            "--webhooks",
            choices=WEBHOOK_MODES,
            default="ignored",
            help="A create's `webhook`: never called (as DeerAPI may do), or POSTed the prediction when it ends.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["key"] if options["key"] is not None else settings.DEERAPI_KEY
        simulator = Simulator(
            host=options["host"],
            port=options["port"],
            key=key,
            starting_seconds=options["starting_seconds"],
            processing_seconds=options["processing_seconds"],
            file_ttl=options["file_ttl"],
            verbose=options["log_requests"],
            output_size=options["output_size"],
            logs=options["logs"],
            webhooks=options["webhooks"],
        )
        self.stdout.write(f"DeerAPI simulator listening on {simulator.url} (Ctrl-C to stop)")
        self.stdout.flush()
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopping the DeerAPI simulator.")
        finally:
            simulator.stop()
