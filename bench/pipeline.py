"""Pipeline benchmark: DeerWeb's submit → poll → store pipeline against the official client.

Real PostgreSQL (a dedicated database, dropped and migrated at the start), real Redis, the DeerAPI
simulator as its own process, and ONE Celery worker process with a fixed prefork concurrency.

DeerWeb: `--members` members submit `--predictions` predictions at once through
`services.prediction_create` (from `--threads` threads); the worker (`celery -A deerweb worker`,
production settings, beat beside it as in the Procfile) sends, polls and stores them all. The peer:
Celery tasks calling the `replicate` client's `run` (bench/peer.py) on a worker with the same
concurrency. The peer follows only `concurrency` predictions at a time, so it runs
`--peer-predictions` and its wall time for the full count is projected: ceil(predictions /
concurrency) rounds of its mean task time.

Figures per workload (simulated run time): wall time until all are stored; predictions in flight
at the peak (sampled); DeerAPI requests per prediction (the simulator's counter, file downloads
left out); the lag from the simulator completing a prediction to DeerWeb showing it succeeded
(median, p95); the worker's resident memory, summed over its process tree, at the peak; and, to
show where the time goes, CPU time of the worker, the PostgreSQL backends, the simulator and the
submitting process, and how busy the whole machine was.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import requests

from . import harness
from .harness import BenchError, Child, Sampler

MODEL = "black-forest-labs/flux-schnell"
SIMULATOR_KEY = "bench-deerapi-key"  # noqa: S105 - the simulator's key, not a secret
# Sampled: (in flight, finished). DeerWeb's in flight are at DeerAPI or being stored.
DEERWEB_COUNTS = (
    "SELECT count(*) FILTER (WHERE status IN ('starting', 'processing', 'storing')), "
    "count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'canceled', 'unknown')) FROM predictions_prediction"
)
PEER_COUNTS = (
    "SELECT count(*) FILTER (WHERE started_at IS NOT NULL AND stored_at IS NULL AND error IS NULL), "
    "count(*) FILTER (WHERE stored_at IS NOT NULL OR error IS NOT NULL) FROM bench_peer_job"
)
# Targets.
LAG_P95_TARGET = 2.0
REQUEST_RATIO_TARGET = 1 / 3
RSS_TARGET_MB = 300
MB = 1_000_000
# The peer keeps only output URLs; the simulator's name the prediction: /files/<id>/out-0.webp.
_FILE_URL = re.compile(r"/files/([^/]+)/")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--predictions", type=int, default=1000, help="DeerWeb's predictions per workload")
    parser.add_argument(
        "--peer-predictions", type=int, default=40, help="the peer's (reduced) count per workload; 0 skips the peer"
    )
    parser.add_argument(
        "--run-seconds",
        type=float,
        nargs="+",
        default=[2.0, 20.0],
        help="simulated run times (starting + processing), one workload each",
    )
    parser.add_argument(
        "--logs",
        nargs="+",
        choices=["progress", "plain"],
        default=["progress", "plain"],
        help="the simulator's logs, one world each: tqdm progress bars (as Replicate's image models print), "
        "or none (DeerAPI relays many vendors; whether their logs carry a bar is not known)",
    )
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--threads", type=int, default=4, help="threads calling prediction_create")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="task slots of each worker: DeerWeb's threads (as the Procfile and docker-compose "
        "start it), the peer's prefork processes (default %(default)s)",
    )
    parser.add_argument("--sample-interval", type=float, default=0.5, help="seconds between samples")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds to wait for a workload to finish (default: from its size)"
    )
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the scratch folder (worker and simulator logs, stored images) and print it",
    )
    harness.add_common_arguments(parser)


def _positive(args: argparse.Namespace) -> None:
    for name in ("predictions", "members", "threads", "concurrency"):
        if getattr(args, name) < 1:
            raise BenchError(f"--{name.replace('_', '-')} must be at least 1")
    if args.peer_predictions < 0:
        raise BenchError("--peer-predictions must be 0 or more")
    if any(seconds <= 0 for seconds in args.run_seconds) or args.sample_interval <= 0:
        raise BenchError("--run-seconds and --sample-interval must be positive")


def _timings(run_seconds: float) -> tuple[float, float]:
    """Starting and processing seconds summing to the run time. Starting is never 0: the
    replicate client takes a create answered `processing` as already finished."""
    starting = min(1.0, run_seconds / 4)
    return starting, run_seconds - starting


def _input(index: int, member: str) -> dict[str, Any]:
    return {"prompt": f"bench {index} by {member}: a red deer at dawn", "num_outputs": 1, "output_format": "webp"}


# --- Figures ------------------------------------------------------------------------------


@dataclass
class Figures:
    predictions: int
    succeeded: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    wall: float = float("nan")
    submit_seconds: float = float("nan")
    peak_in_flight: int = 0
    requests: int = 0
    creates: int = 0
    gets: int = 0
    lags: list[float] = field(default_factory=list)
    peak_rss: int = 0
    peak_pss: int = 0
    worker_cpu: float = 0.0
    postgres_cpu: float = 0.0
    simulator_cpu: float = 0.0
    submitter_cpu: float = 0.0
    worker_statements: int | None = None  # SQL statements the worker ran (bench/counting.py)
    create_statements: int | None = None  # and prediction_create, in the submitting threads
    machine_busy: float = float("nan")
    mean_task: float | None = None
    projected_wall: float | None = None
    timed_out: bool = False

    @property
    def per_prediction(self) -> float:
        return self.requests / self.predictions if self.predictions else float("nan")

    @property
    def lag_median(self) -> float:
        return harness.percentile(self.lags, 50)

    @property
    def lag_p95(self) -> float:
        return harness.percentile(self.lags, 95)


@dataclass
class Workload:
    run_seconds: float
    deerweb: Figures
    peer: Figures | None
    logs: str = "progress"

    @property
    def name(self) -> str:
        return f"{self.run_seconds:g} s, {'progress bars' if self.logs == 'progress' else 'no progress bar'}"


class Monitor:
    """Sampled every `interval`: statuses from the database, the worker tree's memory, and CPU time
    (of the worker, of the PostgreSQL backends serving the database, of the simulator)."""

    def __init__(self, ctx: Context, count_sql: str, worker_pid: int) -> None:
        self._conn = psycopg.connect(ctx.database_url, autocommit=True)
        self._sql = count_sql
        self._pid = worker_pid
        self._database = harness.database_name(ctx.database_url)
        self._simulator_pid = ctx.simulator_pid
        table = harness.processes()
        self._worker_start = harness.tree_cpu_seconds(table, worker_pid)  # its start-up is not the workload's
        self._postgres_start = harness.postgres_cpu_seconds(table, self._database)
        self._postgres_last = dict(self._postgres_start)
        self._simulator_start = harness.tree_cpu_seconds(table, ctx.simulator_pid)
        self._simulator_last = self._simulator_start
        self.in_flight = 0
        self.finished = 0
        self.peak_in_flight = 0
        self.peak_rss = 0
        self.peak_pss = 0
        self.worker_cpu = 0.0

    def sample(self) -> None:
        in_flight, finished = self._conn.execute(self._sql).fetchone()
        self.in_flight, self.finished = int(in_flight or 0), int(finished or 0)
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        table = harness.processes()
        rss, pss = harness.memory_bytes(harness.descendants(table, self._pid))
        self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
        self.worker_cpu = harness.tree_cpu_seconds(table, self._pid) - self._worker_start
        self._postgres_last.update(harness.postgres_cpu_seconds(table, self._database))
        self._simulator_last = harness.tree_cpu_seconds(table, self._simulator_pid)

    def cpu_into(self, figures: Figures) -> None:
        figures.worker_cpu = self.worker_cpu
        figures.postgres_cpu = sum(
            seconds - self._postgres_start.get(pid, 0.0) for pid, seconds in self._postgres_last.items()
        )
        figures.simulator_cpu = self._simulator_last - self._simulator_start

    def close(self) -> None:
        self._conn.close()


# --- The run ------------------------------------------------------------------------------


class Context:
    """What every phase of a run shares: the services, the simulator's address, a scratch folder."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.database_url = args.database_url
        self.redis_url = args.redis_url
        self.deerweb_queue = harness.queue_name(args.database_url, "deerweb")
        self.peer_queue = harness.queue_name(args.database_url, "peer")
        self.sql_key = f"{self.deerweb_queue}:sql-statements"
        self.port = harness.free_port()
        self.simulator_url = f"http://127.0.0.1:{self.port}"
        self.scratch = Path(tempfile.mkdtemp(prefix="deerweb-bench-"))
        self.simulator_pid = 0  # set while a workload's simulator runs
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {SIMULATOR_KEY}"

    def environment(self) -> dict[str, str]:
        """DeerWeb's settings for the benchmark's own process and its worker."""
        return {
            **harness.deerweb_environment(
                self.database_url,
                self.redis_url,
                queue=self.deerweb_queue,
                simulator_url=self.simulator_url,
                key=SIMULATOR_KEY,
                media_root=self.scratch / "media",
            ),
            "DEERWEB_BENCH_SQL_KEY": self.sql_key,
            "BENCH_PEER_BROKER_URL": self.redis_url,
            "BENCH_PEER_QUEUE": self.peer_queue,
            "BENCH_PEER_DATABASE_URL": self.database_url,
            "BENCH_PEER_API_BASE": f"{self.simulator_url}/replicate",
            "BENCH_PEER_API_TOKEN": SIMULATOR_KEY,
        }

    def simulator(self, run_seconds: float, logs: str) -> Child:
        starting, processing = _timings(run_seconds)
        argv = [
            sys.executable,
            "-m",
            "deerapi.simulator",
            "--port",
            str(self.port),
            "--key",
            SIMULATOR_KEY,
            "--starting-seconds",
            str(starting),
            "--processing-seconds",
            str(processing),
            "--logs",
            logs,
        ]
        return Child("simulator", argv, dict(os.environ), self.scratch / "simulator.log")

    def worker(self, app: str, name: str, pool: str = "prefork") -> Child:
        """A worker as the Procfile runs it (DeerWeb's: `pool` threads), with the benchmark's concurrency."""
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            "--loglevel",
            "INFO",
            "--pool",
            pool,
            "--concurrency",
            str(self.args.concurrency),
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}-{os.getpid()}@%h",
        ]
        env = dict(os.environ, DEERWEB_LOG_LEVEL="INFO")
        return Child(f"{name} worker", argv, env, self.scratch / f"{name}.log")

    def beat(self) -> Child:
        schedule = self.scratch / "beat-schedule"
        for stale in self.scratch.glob("beat-schedule*"):
            stale.unlink()
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "deerweb",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(schedule),
        ]
        return Child("beat", argv, dict(os.environ, DEERWEB_LOG_LEVEL="INFO"), self.scratch / "beat.log")

    def simulator_reset(self) -> None:
        self.session.post(f"{self.simulator_url}/_simulator/reset", timeout=10).raise_for_status()

    def simulator_stats(self) -> dict[str, Any]:
        response = self.session.get(f"{self.simulator_url}/_simulator/stats", timeout=30)
        response.raise_for_status()
        return response.json()

    def simulator_completed_at(self, deerapi_id: str) -> float | None:
        response = self.session.get(f"{self.simulator_url}/_simulator/predictions/{deerapi_id}", timeout=10)
        response.raise_for_status()
        return response.json()["completed_at"]

    def close(self) -> None:
        self.session.close()
        if self.args.keep_logs:
            print(f"Logs and stored images: {self.scratch}")
        else:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _wait(monitor: Monitor, expected: int, worker: Child, timeout: float) -> bool:
    """Until every prediction has finished; False on timeout. Raises if the worker died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if monitor.finished >= expected:
            return True
        if not worker.alive():
            raise BenchError(f"the {worker.name} died:\n{worker.tail()}")
        time.sleep(0.1)
    return False


def _monitor_into(figures: Figures, monitor: Monitor, machine_before: tuple[int, int]) -> None:
    figures.peak_in_flight = monitor.peak_in_flight
    figures.peak_rss = monitor.peak_rss
    figures.peak_pss = monitor.peak_pss
    monitor.cpu_into(figures)
    busy, total = (now - before for now, before in zip(harness.machine_cpu_times(), machine_before, strict=True))
    figures.machine_busy = busy / total if total else float("nan")


def _requests_into(figures: Figures, stats: dict[str, Any]) -> None:
    figures.requests = stats["requests"] - stats["file_downloads"]
    figures.creates = stats["create_requests"]
    figures.gets = stats["gets"]


def _observe(stack: ExitStack, ctx: Context, count_sql: str, worker: Child) -> tuple[Monitor, Sampler]:
    """A monitor of `worker` sampled in the background; both closed when `stack` unwinds."""
    monitor = Monitor(ctx, count_sql, worker.pid)
    stack.callback(monitor.close)
    sampler = Sampler(monitor.sample, ctx.args.sample_interval)
    stack.callback(sampler.stop)
    return monitor, sampler


def _finish(figures: Figures, monitor: Monitor, sampler: Sampler, worker: Child, timeout: float) -> None:
    """Wait for every prediction, then take the last reading with the worker still up."""
    figures.timed_out = not _wait(monitor, figures.predictions, worker, timeout)
    sampler.stop()
    if sampler.error:
        raise BenchError(f"sampling failed: {sampler.error!r}")
    monitor.sample()


def _deerweb(ctx: Context, run_seconds: float, members: list[Any]) -> Figures:
    from django.db import connection

    from predictions import services
    from predictions.models import Prediction, Status

    from . import counting

    args = ctx.args
    figures = Figures(args.predictions)
    _tables_reset(include_deerweb=True)
    ctx.simulator_reset()
    harness.redis_queues_clear(ctx.redis_url, [ctx.deerweb_queue, ctx.sql_key])
    with ExitStack() as stack:
        worker = ctx.worker("deerweb", "bench-deerweb", pool="threads")
        stack.callback(worker.stop)
        worker.start(" ready.")
        # Beat runs beside the worker, as in production (Procfile, README); not in the worker's figures.
        beat = ctx.beat()
        stack.callback(beat.stop)
        beat.start("beat: Starting...")
        monitor, sampler = _observe(stack, ctx, DEERWEB_COUNTS, worker)
        sampler.start()

        cpu: list[float] = []
        statements: list[int] = []

        def submit(thread: int) -> None:
            begun, counted = time.thread_time(), counting.thread_statements()
            try:
                for index in range(thread, args.predictions, args.threads):
                    owner = members[index % len(members)]
                    services.prediction_create(owner=owner, model_id=MODEL, input=_input(index, owner.username))
            finally:
                connection.close()
                cpu.append(time.thread_time() - begun)
                statements.append(counting.thread_statements() - counted)

        machine_before = harness.machine_cpu_times()
        started = time.time()
        errors = harness.run_threads(args.threads, submit)
        figures.submit_seconds = time.time() - started
        figures.submitter_cpu = sum(cpu)  # prediction_create: the web side's work
        figures.create_statements = sum(statements)
        if errors:
            raise BenchError(f"prediction_create failed: {errors[0]!r}")
        _finish(figures, monitor, sampler, worker, args.timeout or 120 + 4 * run_seconds + 0.3 * args.predictions)
        _monitor_into(figures, monitor, machine_before)

    _requests_into(figures, ctx.simulator_stats())
    figures.worker_statements = harness.redis_counter(ctx.redis_url, ctx.sql_key)
    rows = list(Prediction.objects.values_list("status", "deerapi_id", "completed_at"))
    for status, _id, _done in rows:
        figures.statuses[status] = figures.statuses.get(status, 0) + 1
    done = [(deerapi_id, completed) for status, deerapi_id, completed in rows if status == Status.SUCCEEDED]
    figures.succeeded = len(done)
    if done:
        figures.wall = max(completed for _id, completed in done).timestamp() - started
    figures.lags = _lags(ctx, done)
    return figures


def _peer(ctx: Context, run_seconds: float, members: list[Any]) -> Figures:
    from . import peer

    args = ctx.args
    count = args.peer_predictions
    figures = Figures(count)
    _tables_reset(include_deerweb=False)
    ctx.simulator_reset()
    harness.redis_queues_clear(ctx.redis_url, [ctx.peer_queue])
    with psycopg.connect(ctx.database_url, autocommit=True) as conn:
        now = datetime.now().astimezone()
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_peer_job (id, member, queued_at) VALUES (%s, %s, %s)",
                [(index, members[index % len(members)].username, now) for index in range(count)],
            )
    with ExitStack() as stack:
        worker = ctx.worker("bench.peer", "bench-peer")
        stack.callback(worker.stop)
        worker.start(" ready.")
        monitor, sampler = _observe(stack, ctx, PEER_COUNTS, worker)
        sampler.start()
        machine_before = harness.machine_cpu_times()
        started, begun = time.time(), time.thread_time()
        for index in range(count):
            member = members[index % len(members)].username
            peer.app.send_task(
                "bench.peer.run_prediction", args=[index, MODEL, _input(index, member)], queue=ctx.peer_queue
            )
        figures.submit_seconds = time.time() - started
        figures.submitter_cpu = time.thread_time() - begun
        rounds = math.ceil(count / args.concurrency)
        _finish(figures, monitor, sampler, worker, args.timeout or 120 + rounds * (run_seconds + 2) * 2)
        _monitor_into(figures, monitor, machine_before)

    _requests_into(figures, ctx.simulator_stats())
    with psycopg.connect(ctx.database_url) as conn:
        rows = conn.execute("SELECT output_url, started_at, stored_at, error FROM bench_peer_job").fetchall()
    done = [(url, begun, stored) for url, begun, stored, error in rows if stored is not None and not error]
    figures.statuses = {"succeeded": len(done), "failed": sum(1 for row in rows if row[3])}
    figures.statuses["unfinished"] = count - sum(figures.statuses.values())
    figures.succeeded = len(done)
    if done:
        figures.wall = max(stored for _url, _begun, stored in done).timestamp() - started
        figures.mean_task = statistics.fmean((stored - begun).total_seconds() for _url, begun, stored in done)
        figures.projected_wall = math.ceil(args.predictions / args.concurrency) * figures.mean_task
    pairs = []
    for url, _begun, stored in done:
        match = _FILE_URL.search(url or "")
        if match:
            pairs.append((match.group(1), stored))
    figures.lags = _lags(ctx, pairs)
    return figures


def _lags(ctx: Context, done: list[tuple[str, datetime]]) -> list[float]:
    """Seconds from the simulator completing each prediction to its being shown succeeded."""
    lags = []
    for deerapi_id, shown in done:
        completed = ctx.simulator_completed_at(deerapi_id)
        if completed is not None:
            lags.append(shown.timestamp() - completed)
    return lags


def _tables_reset(*, include_deerweb: bool) -> None:
    from django.db import connection

    from audit.models import AuditEntry
    from billing.models import LedgerEntry
    from predictions.models import Prediction, PredictionOutput, Prompt

    tables = ["bench_peer_job"]
    if include_deerweb:
        tables += [model._meta.db_table for model in (PredictionOutput, LedgerEntry, AuditEntry, Prediction, Prompt)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")  # noqa: S608 - our own names


def _setup(ctx: Context) -> list[Any]:
    """Database, settings and members; returns the members."""
    harness.database_recreate(ctx.database_url)
    os.environ.update(ctx.environment())
    os.environ["DEERWEB_LOG_LEVEL"] = "WARNING"  # the worker logs at INFO, as in production
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from .peer import TABLE_DDL

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(TABLE_DDL)
    return harness.members_create(ctx.args.members)


# --- Printing -----------------------------------------------------------------------------


def _seconds(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f} s"


def _workload_table(workload: Workload, args: argparse.Namespace) -> str:
    dw, pr = workload.deerweb, workload.peer
    headers = ["", f"DeerWeb ({dw.predictions} predictions)"]
    if pr:
        headers.append(f"Peer: replicate client ({pr.predictions} predictions, reduced)")

    def row(name: str, deerweb: str, peer: str) -> list[str]:
        return [name, deerweb, peer] if pr else [name, deerweb]

    def finished(figures: Figures) -> str:
        text = f"{figures.succeeded} of {figures.predictions} succeeded"
        others = {k: v for k, v in figures.statuses.items() if k != "succeeded" and v}
        if others:
            text += " (" + ", ".join(f"{v} {k}" for k, v in sorted(others.items())) + ")"
        return text + (" — TIMED OUT" if figures.timed_out else "")

    peer_wall = ""
    if pr:
        peer_wall = _seconds(pr.wall)
        if pr.projected_wall is not None:
            peer_wall += f"; {args.predictions} projected: {pr.projected_wall:.0f} s"
    rows = [
        row("Outcome", finished(dw), finished(pr) if pr else ""),
        row("Wall time until all stored", _seconds(dw.wall), peer_wall),
        row("Time to submit all", _seconds(dw.submit_seconds, 2), _seconds(pr.submit_seconds, 2) if pr else ""),
        row(
            "In flight at the peak (starting, processing, storing)",
            str(dw.peak_in_flight),
            str(pr.peak_in_flight) if pr else "",
        ),
        row("DeerAPI requests per prediction", f"{dw.per_prediction:.2f}", f"{pr.per_prediction:.2f}" if pr else ""),
        row("  creates / polls per prediction", _split(dw), _split(pr) if pr else ""),
        row("Lag, DeerAPI done → shown succeeded: median / p95", _lag(dw), _lag(pr) if pr else ""),
        row("Worker RSS at the peak (process tree)", _memory(dw), _memory(pr) if pr else ""),
        row("Worker CPU time (per prediction)", _cpu(dw), _cpu(pr) if pr else ""),
        row("CPU per prediction: PostgreSQL / simulator / submitting", _other_cpu(dw), _other_cpu(pr) if pr else ""),
        row("SQL statements per prediction: worker / create", _statements(dw), _statements(pr) if pr else ""),
        row(
            "All CPUs busy during the run (any process)",
            f"{dw.machine_busy:.0%}",
            f"{pr.machine_busy:.0%}" if pr else "",
        ),
    ]
    return harness.table(headers, rows)


def _cpu(figures: Figures) -> str:
    return f"{figures.worker_cpu:.1f} s ({figures.worker_cpu / (figures.predictions or 1) * 1000:.0f} ms)"


def _other_cpu(figures: Figures) -> str:
    n = (figures.predictions or 1) / 1000
    return f"{figures.postgres_cpu / n:.0f} / {figures.simulator_cpu / n:.0f} / {figures.submitter_cpu / n:.0f} ms"


def _statements(figures: Figures) -> str:
    if figures.worker_statements is None or figures.create_statements is None:
        return "–"
    n = figures.predictions or 1
    return f"{figures.worker_statements / n:.1f} / {figures.create_statements / n:.1f}"


def _memory(figures: Figures) -> str:
    return f"{figures.peak_rss / MB:.0f} MB (PSS {figures.peak_pss / MB:.0f} MB)"


def _split(figures: Figures) -> str:
    n = figures.predictions or 1
    return f"{figures.creates / n:.2f} / {figures.gets / n:.2f}"


def _lag(figures: Figures) -> str:
    return f"{_seconds(figures.lag_median, 2)} / {_seconds(figures.lag_p95, 2)}"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _targets(workloads: list[Workload], args: argparse.Namespace) -> list[str]:
    longest = max(workloads, key=lambda w: w.run_seconds)
    peaks = ", ".join(f"{w.deerweb.peak_in_flight} at {w.name}" for w in workloads)
    lines = [
        f"{_verdict(longest.deerweb.peak_in_flight >= args.predictions)}  all {args.predictions} tracked at once "
        f"by the one worker (judged on the {longest.run_seconds:g} s workload; at shorter run times predictions "
        f"finish while others are still being sent): peak in flight {peaks}",
    ]
    p95s = [w.deerweb.lag_p95 for w in workloads]
    lag_ok = all(not math.isnan(p) and p <= LAG_P95_TARGET for p in p95s)
    lines.append(
        f"{_verdict(lag_ok)}  p95 lag ≤ {LAG_P95_TARGET:g} s: "
        + ", ".join(f"{p:.2f} s at {w.name}" for p, w in zip(p95s, workloads, strict=True))
    )
    with_peer = [w for w in workloads if w.peer and w.peer.requests]
    if with_peer:
        ours = statistics.fmean(w.deerweb.per_prediction for w in with_peer)
        theirs = statistics.fmean(w.peer.per_prediction for w in with_peer)
        each = ", ".join(f"{w.deerweb.per_prediction / w.peer.per_prediction:.2f} at {w.name}" for w in with_peer)
        lines.append(
            f"{_verdict(ours <= theirs * REQUEST_RATIO_TARGET)}  requests per prediction ≤ a third of "
            f"the peer's on average over the workloads: {ours:.2f} vs {theirs:.2f} = "
            f"{ours / theirs:.2f} (per workload: {each})"
        )
    else:
        lines.append("MISS  requests per prediction against the peer: the peer did not run (--peer-predictions 0)")
    rss = max(w.deerweb.peak_rss for w in workloads) / MB
    lines.append(f"{_verdict(rss <= RSS_TARGET_MB)}  worker RSS ≤ {RSS_TARGET_MB} MB: {rss:.0f} MB at the peak")
    return lines


def _workload(ctx: Context, args: argparse.Namespace, members: list, run_seconds: float, logs: str) -> Workload:
    """One workload in one world: its own simulator process, DeerWeb, then the peer; printed."""
    starting, processing = _timings(run_seconds)
    simulator = ctx.simulator(run_seconds, logs).start("listening on")
    ctx.simulator_pid = simulator.pid
    try:
        world = "progress bars in the logs" if logs == "progress" else "no progress bar in the logs"
        print(
            f"-- {run_seconds:g} s workload (simulator: {starting:g} s starting + {processing:g} s processing; "
            f"{world}) --",
            flush=True,
        )
        deerweb = _deerweb(ctx, run_seconds, members)
        peer = _peer(ctx, run_seconds, members) if args.peer_predictions else None
    finally:
        simulator.stop()
    workload = Workload(run_seconds, deerweb, peer, logs)
    print(_workload_table(workload, args))
    if peer and peer.projected_wall is not None:
        print(
            f"Peer projection: ceil({args.predictions} / {args.concurrency}) rounds × its mean task time "
            f"{peer.mean_task:.2f} s (a peer task holds one worker process for its whole prediction)."
        )
    print(flush=True)
    return workload


def run(args: argparse.Namespace) -> int:
    _positive(args)
    print("== Pipeline: DeerWeb against the official replicate client ==")
    print(f"Command: {harness.command_line()}")
    for line in harness.machine_lines(args.database_url, args.redis_url):
        print(line)
    print(
        f"Workers: one Celery worker process each, prefork, concurrency {args.concurrency}; DeerWeb's with "
        f"production settings and beat as its own process (not counted); the simulator in its own process"
    )
    print(
        f"Workload: {args.members} members submit {args.predictions} predictions at once from {args.threads} "
        f"threads; model {MODEL}, 1 webp image each; peer: {args.peer_predictions} predictions"
    )
    print(flush=True)
    ctx = Context(args)
    workloads: list[Workload] = []
    try:
        members = _setup(ctx)
        for logs in args.logs:
            for run_seconds in args.run_seconds:
                workloads.append(_workload(ctx, args, members, run_seconds, logs))
    finally:
        ctx.close()
    print("Targets (DeerWeb):")
    for line in _targets(workloads, args):
        print(f"  {line}")
    return 0
