"""Waits benchmark: many requests waiting on predictions in one web process, woken by another process.

What an async view answering `Prefer: wait` relies on, measured alone: this process plays the web
process and starts `--waiters` concurrent `ops.notifier.wait_for_change` calls in one asyncio event
loop, each on a prediction id of its own, once the loop's one subscription is made. A second Python
process plays the worker and calls `ops.notifier.notify` for every id, in random order:
- paced: `--rate` notifications a second; the latency of each is from its `notify` call (in the
  sender) to its waiter waking (here), on the machine's monotonic clock, which both processes share;
- burst: the same number of new waiters, then every id notified back to back; the time from the
  first `notify` to the last waiter waking.
Each backend named by `--backends` runs in turn (local: Unix datagram sockets in a folder of the
run's own; redis: pub/sub on `--redis-url`; postgresql: LISTEN/NOTIFY on `--database-url`, which is
dropped and created, not migrated: nothing here reads a table). Also printed: this process's memory
and threads before and with the waiters waiting, and waiters woken before their own notification
was sent (a waiter woken by another id's notification would show there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import harness
from .harness import BenchError

BACKENDS = ("local", "redis", "postgresql")
# The sender: Django set up as the waiting process has it, then one notify per id, timed.
SENDER = "from bench.waits import send; send()"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--waiters", type=int, default=500, help="requests waiting at once, one prediction id each")
    parser.add_argument("--rate", type=float, default=250.0, help="notifications a second in the paced round")
    parser.add_argument(
        "--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS), help="notifier backends to measure"
    )
    parser.add_argument("--seed", type=int, default=6, help="random seed of the order of the notifications")
    harness.add_common_arguments(parser)


@dataclass
class Round:
    sent: dict[int, float] = field(default_factory=dict)  # id -> monotonic time of its notify call
    woken: dict[int, float] = field(default_factory=dict)  # id -> monotonic time its waiter woke

    def latencies(self) -> list[float]:
        return [self.woken[pk] - self.sent[pk] for pk in self.sent if pk in self.woken]

    def early(self) -> int:
        return sum(1 for pk, at in self.woken.items() if pk not in self.sent or at < self.sent[pk])

    def span(self) -> float:
        if not self.sent or len(self.woken) < len(self.sent):
            return float("nan")
        return max(self.woken.values()) - min(self.sent.values())


@dataclass
class Figures:
    backend: str
    paced: Round = field(default_factory=Round)
    burst: Round = field(default_factory=Round)
    rss_before: int = 0
    rss_waiting: int = 0
    threads_before: int = 0
    threads_waiting: int = 0


def _status() -> tuple[int, int]:
    """This process's resident memory (bytes) and thread count."""
    rss = threads = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss, threads


def _environment(args: argparse.Namespace, notify_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(40),
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.redis_url,
        "DEERWEB_BENCH_NOTIFY_DIR": str(notify_dir),
        "DEERAPI_KEY": "bench-deerapi-key-never-sent",
        "DEERWEB_LOG_LEVEL": "WARNING",
    }


def send() -> None:
    """The sender process: `python -c SENDER <backend> <rate> <id>...` (rate 0: back to back).
    Prints one JSON object: each id's monotonic time of its notify call."""
    import django

    backend, rate, ids = sys.argv[1], float(sys.argv[2]), [int(pk) for pk in sys.argv[3:]]
    os.environ["DEERWEB_NOTIFIER"] = backend
    django.setup()
    from ops import notifier

    notifier.notify(0)  # connect first: no connection's opening in the first latency
    sent = {}
    started = time.monotonic()
    for n, pk in enumerate(ids):
        if rate:
            pause = started + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        sent[pk] = time.monotonic()
        notifier.notify(pk)
    print(json.dumps(sent))


async def _round(backend: str, ids: list[int], rate: float, env: dict[str, str], figures: Figures) -> Round:
    from ops import notifier

    result = Round()

    async def wait(pk: int) -> None:
        if await notifier.wait_for_change(pk, 120):
            result.woken[pk] = time.monotonic()

    waiters = [asyncio.create_task(wait(pk)) for pk in ids]
    await asyncio.sleep(0.5)  # every waiter registered, and the memory they take settled
    if not figures.rss_waiting:
        figures.rss_waiting, figures.threads_waiting = _status()
    sender = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SENDER,
        backend,
        str(rate),
        *map(str, ids),
        cwd=harness.ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await sender.communicate()
    if sender.returncode != 0:
        raise BenchError(f"the {backend} sender failed:\n{err.decode(errors='replace')[-3000:]}")
    result.sent = {int(pk): at for pk, at in json.loads(out).items()}
    _done, pending = await asyncio.wait(waiters, timeout=30)
    for task in pending:
        task.cancel()
    return result


async def _measure(backend: str, args: argparse.Namespace, env: dict[str, str]) -> Figures:
    from django.conf import settings

    from ops import notifier

    settings.NOTIFIER = backend
    figures = Figures(backend)
    if not await notifier.subscription_ready(10):
        raise BenchError(f"the {backend} notifier did not subscribe within 10 s")
    figures.rss_before, figures.threads_before = _status()
    rng = random.Random(args.seed)
    ids = list(range(1, args.waiters + 1))
    rng.shuffle(ids)
    figures.paced = await _round(backend, ids, args.rate, env, figures)
    rng.shuffle(ids)
    figures.burst = await _round(backend, [pk + args.waiters for pk in ids], 0.0, env, figures)
    return figures


def _ms(values: list[float], q: float) -> str:
    return f"{harness.percentile(values, q) * 1000:.1f} ms" if values else "–"


def _report(results: list[Figures], args: argparse.Namespace) -> list[str]:
    mb = 1024 * 1024
    rows = []
    for f in results:
        paced = f.paced.latencies()
        rows.append(
            [
                f.backend,
                f"{len(f.paced.woken)} + {len(f.burst.woken)} of {2 * args.waiters}",
                _ms(paced, 50),
                _ms(paced, 95),
                _ms(paced, 100),
                f"{f.burst.span() * 1000:.0f} ms",
                _ms(f.burst.latencies(), 95),
                f"{f.rss_before / mb:.1f} → {f.rss_waiting / mb:.1f} MB",
                f"{f.threads_before} → {f.threads_waiting}",
                str(f.paced.early() + f.burst.early()),
            ]
        )
    headers = [
        "Backend",
        "Woken (paced + burst)",
        "Paced p50",
        "p95",
        "max",
        "Burst: all woken in",
        "Burst p95",
        "RSS before → waiting",
        "Threads",
        "Woken early",
    ]
    lines = [harness.table(headers, rows), ""]
    woken = all(len(f.paced.woken) == len(f.burst.woken) == args.waiters for f in results)
    early = sum(f.paced.early() + f.burst.early() for f in results)
    lines.append(f"  {'PASS' if woken else 'MISS'}  every waiter woken by its own notification")
    lines.append(f"  {'PASS' if not early else 'MISS'}  no waiter woken before its own notification was sent")
    return lines


def run(args: argparse.Namespace) -> int:
    if args.waiters < 1 or args.rate <= 0:
        raise BenchError("--waiters must be at least 1 and --rate above 0")
    print("== Waits: requests waiting on predictions in one process, woken by notifications from another ==")
    print(f"Command: {harness.command_line()}")
    for line in harness.machine_lines(args.database_url, args.redis_url):
        print(line)
    print(
        f"Workload: {args.waiters} waiters in one asyncio event loop (ops.notifier.wait_for_change, one id each); "
        f"another process notifies each id, {args.rate:g} a second, then {args.waiters} new waiters and every id "
        "back to back"
    )
    print(flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="deerweb-bench-waits-"))
    env = _environment(args, scratch / "notify")
    os.environ.update(env)  # this process's Django is the sender's
    results: list[Figures] = []
    try:
        harness.database_recreate(args.database_url)
        import django

        django.setup()
        for backend in args.backends:
            results.append(asyncio.run(_measure(backend, args, env)))
    finally:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
            _pools_close()
        shutil.rmtree(scratch, ignore_errors=True)
        harness.database_drop(args.database_url)
    for line in _report(results, args):
        print(line)
    print(f"Load average at the end (1, 5, 15 min): {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    return 0


def _pools_close() -> None:
    """Close this process's PostgreSQL pool, so the database can be dropped."""
    from django.db import connections

    connection: Any = connections["default"]
    if hasattr(connection, "close_pool"):
        connection.close_pool()
