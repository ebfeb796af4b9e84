"""`python -m predictions.simulator`: the simulator without Django (for benchmarks and scripts).

`python manage.py deerapi_simulator` is the same server with defaults from the settings.
"""

from __future__ import annotations

import argparse

from deerapi.simulator.images import OUTPUT_SIZES
from deerapi.simulator.replies import RANDOM_FAULT_KINDS, parse_fault_rates
from deerapi.simulator.server import ROUTES, Simulator
from deerapi.simulator.webhooks import WEBHOOK_MODES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m predictions.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--key", default="sandbox-key")
    parser.add_argument("--starting-seconds", type=float, default=1.0)
    parser.add_argument("--processing-seconds", type=float, default=3.0)
    parser.add_argument("--file-ttl", type=float, default=3600.0)
    parser.add_argument("--log-requests", action="store_true")
    parser.add_argument(
        "--logs",
        choices=["progress", "plain"],
        default="progress",
        help="progress bars in the predictions' logs (as Replicate's image models print), or none",
    )
    parser.add_argument(
        "--fault-rate",
        action="append",
        default=[],
        metavar="ROUTE:KIND=RATE",
        help=f"meet a fault at random, e.g. create:drop=0.01 (routes: {', '.join(ROUTES)}; kinds: "
        f"{', '.join(RANDOM_FAULT_KINDS)}: a 5xx answer, an answer after --timeout-seconds, the connection "
        "closed without an answer); repeat for more",
    )
    parser.add_argument(
        "--output-size",
        choices=OUTPUT_SIZES,
        default="small",
        help="output images 256 px on the long side, or the size the input asks for (1 MP by default, "
        "up to 2048×2048) and as heavy as a real picture",
    )
    parser.add_argument(
        "--webhooks",
        choices=WEBHOOK_MODES,
        default="ignored",
        help="a create's `webhook`: never called (as DeerAPI may do), or POSTed the prediction when it ends",
    )
    parser.add_argument("--fault-seed", type=int, default=None, help="seed of the random faults, to repeat a run")
    parser.add_argument(
        "--timeout-seconds", type=float, default=35.0, help="how late a `timeout` fault answers (default %(default)s)"
    )
    options = parser.parse_args(argv)
    try:
        simulator = Simulator(
            host=options.host,
            port=options.port,
            key=options.key,
            starting_seconds=options.starting_seconds,
            processing_seconds=options.processing_seconds,
            file_ttl=options.file_ttl,
            verbose=options.log_requests,
            logs=options.logs,
            fault_rates=parse_fault_rates(options.fault_rate),
            fault_seed=options.fault_seed,
            timeout_seconds=options.timeout_seconds,
            output_size=options.output_size,
            webhooks=options.webhooks,
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(f"DeerAPI simulator listening on {simulator.url} (Ctrl-C to stop)", flush=True)
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        print("Stopping the DeerAPI simulator.", flush=True)
    finally:
        simulator.stop()


if __name__ == "__main__":
    main()
