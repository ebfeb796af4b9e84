"""`python -m bench [<benchmark> [options]]` (`make bench BENCH_ARGS=...`): print DeerWeb's figures.

With no benchmark named, every one runs in turn with its defaults, each in its own process (each
sets up Django for its own database). `python -m bench <benchmark> --help` lists its options.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from .harness import BenchError

# Each name is a module of this package with `add_arguments(parser)` and `run(args) -> int`;
# the first line of its docstring is its help.
BENCHMARKS = ["pipeline", "images", "pages", "submit", "waits", "api", "soak"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="benchmark", metavar="benchmark")
    for name in BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        summary = (module.__doc__ or name).strip().splitlines()[0]
        sub = commands.add_parser(
            name, help=summary, description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.benchmark is None:
        status = 0
        for name in BENCHMARKS:
            status = subprocess.call([sys.executable, "-m", "bench", name]) or status
        return status
    try:
        return args.run(args)
    except BenchError as exc:
        print(f"bench {args.benchmark}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
