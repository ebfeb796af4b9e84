"""Pipeline benchmark: DeerWeb's submit → poll → store pipeline against the official client.

Real PostgreSQL (a dedicated database, dropped and migrated at the start), real Redis (or RabbitMQ
for DeerWeb's worker: `--broker amqp://…`), the DeerAPI simulator as its own process (small images,
or `--output-size full`: 1 MP webp files as heavy as real ones), and ONE Celery worker process with
a fixed prefork concurrency.

DeerWeb: `--members` members submit `--predictions` predictions at once through
`services.prediction_create` (from `--threads` threads); the worker (`celery -A deerweb worker`,
production settings, beat beside it as in the Procfile) sends, polls and stores them all. Then, on
the same simulator, the two peers of bench/peers.py: the `replicate` client's `run` in Celery tasks
on 8 worker slots (`--peer-slots`), and its `async_run` with 100 predictions in flight
(`--async-in-flight`), over every prediction (the `run()` peer over `--peer-predictions` if fewer).

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
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import requests

from . import harness, peers
from .harness import BenchError, Child, Sampler

MODEL = "black-forest-labs/flux-schnell"
SIMULATOR_KEY = "bench-deerapi-key"  # noqa: S105 - the simulator's key, not a secret
# Sampled: (in flight, finished). DeerWeb's in flight are at DeerAPI or being stored.
DEERWEB_COUNTS = (
    "SELECT count(*) FILTER (WHERE status IN ('starting', 'processing', 'storing')), "
    "count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'canceled', 'unknown')) FROM predictions_prediction"
)
# Targets.
LAG_P95_TARGET = 1.0  # issue 13: for 2 s and 20 s jobs alike, without a progress bar
REQUEST_RATIO_TARGET = 1 / 3
THROUGHPUT_RATIO_TARGET = 1.4  # of the async_run() script's
RSS_TARGET_MB = 250  # each worker process, as the Procfile and compose start it, 1,000 in flight
MB = 1_000_000
PEERS = {"run": "`run()`", "async": "`async_run()`"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--predictions", type=int, default=1000, help="DeerWeb's predictions per workload")
    parser.add_argument(
        "--peers",
        nargs="*",
        choices=list(PEERS),
        default=list(PEERS),
        help="the peers measured beside DeerWeb: `replicate.run` in Celery tasks, `replicate.async_run` in a "
        "script (none: DeerWeb alone)",
    )
    parser.add_argument(
        "--peer-predictions",
        type=int,
        default=None,
        help="the run() peer's count per workload (default: as many as DeerWeb's; its throughput is a rate, "
        "so fewer give the same figure sooner); 0 skips it",
    )
    parser.add_argument("--peer-slots", type=int, default=8, help="the run() peer's worker processes")
    parser.add_argument(
        "--async-in-flight", type=int, default=100, help="the async_run() peer's predictions in flight at most"
    )
    parser.add_argument(
        "--output-size",
        choices=["small", "full"],
        default="small",
        help="the simulator's outputs: 256 px, or as large as the input asks (1 MP webp here) and as heavy as "
        "real pictures, so the worker's CPU includes realistic image work",
    )
    parser.add_argument(
        "--broker",
        default=None,
        help="DeerWeb's Celery broker, e.g. amqp://guest:guest@127.0.0.1:5672// (default: --redis-url); the "
        "run() peer and the SQL statement counter stay on --redis-url",
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
    parser.add_argument(
        "--webhooks",
        nargs="+",
        choices=["ignored", "sent"],
        default=["ignored", "sent"],
        help="what the simulator does with a create's webhook, one world each: never calls it, or calls it "
        "when the prediction ends (DeerAPI's behaviour is not documented). In the `sent` world DeerWeb asks for "
        "the call (DEERWEB_DEERAPI_WEBHOOKS=on), a web process as the Procfile starts it receives it, and the "
        "peers do not run (they take no webhook)",
    )
    parser.add_argument(
        "--pace",
        choices=["on", "off"],
        default="off",
        help="DeerWeb's worker sends creates as fast as they are claimed (the default), or no faster than it "
        "stores their results (DEERWEB_PACE_CREATES=on)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="DeerWeb's worker processes, as `docker compose up --scale worker=N` or more hosts run them: each "
        "with its own poller, sharing PostgreSQL and the broker (default %(default)s); CPU and memory are summed "
        "over them",
    )
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--threads", type=int, default=4, help="threads calling prediction_create")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="DeerWeb's submissions per second, spread evenly (default 0: all at once); the peers start at once",
    )
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
    for name in ("predictions", "workers", "members", "threads", "concurrency", "peer_slots", "async_in_flight"):
        if getattr(args, name) < 1:
            raise BenchError(f"--{name.replace('_', '-')} must be at least 1")
    if args.peer_predictions is None:
        args.peer_predictions = args.predictions
    if args.peer_predictions < 0:
        raise BenchError("--peer-predictions must be 0 or more")
    if args.rate < 0:
        raise BenchError("--rate must be 0 (all at once) or more")
    if args.broker is None:
        args.broker = args.redis_url
    if not args.broker.startswith(("redis://", "amqp://", "amqps://")):
        raise BenchError("--broker must be a redis:// or amqp:// URL")
    if any(seconds <= 0 for seconds in args.run_seconds) or args.sample_interval <= 0:
        raise BenchError("--run-seconds and --sample-interval must be positive")


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
    waits: list[float] = field(default_factory=list)  # DeerWeb: submitted -> shown succeeded
    peak_rss: int = 0
    peak_pss: int = 0
    worker_cpu: float = 0.0
    postgres_cpu: float = 0.0
    simulator_cpu: float = 0.0
    submitter_cpu: float = 0.0
    web_cpu: float = 0.0  # the web process receiving DeerAPI's calls (the `sent` world)
    worker_statements: int | None = None  # SQL statements the worker ran (bench/counting.py)
    create_statements: int | None = None  # and prediction_create, in the submitting threads
    machine_busy: float = float("nan")
    timed_out: bool = False

    @property
    def per_prediction(self) -> float:
        return self.requests / self.predictions if self.predictions else float("nan")

    @property
    def throughput(self) -> float:
        """Predictions succeeded per second, from the first submit to the last result in hand."""
        return self.succeeded / self.wall if self.wall > 0 else float("nan")

    @property
    def lag_p95(self) -> float:
        return harness.percentile(self.lags, 95)


@dataclass
class Workload:
    run_seconds: float
    deerweb: Figures
    peers: dict[str, Figures]  # by PEERS key, in the order run
    logs: str = "progress"
    webhooks: str = "ignored"

    @property
    def name(self) -> str:
        bars = "progress bars" if self.logs == "progress" else "no progress bar"
        return f"{self.run_seconds:g} s, {bars}{', webhooks' if self.webhooks == 'sent' else ''}"


class Monitor:
    """Sampled every `interval`: statuses from the database, the worker tree's memory, and CPU time
    (of the worker, of the PostgreSQL backends serving the database, of the simulator)."""

    def __init__(self, ctx: Context, count_sql: str, worker_pids: list[int]) -> None:
        self._conn = psycopg.connect(ctx.database_url, autocommit=True)
        self._sql = count_sql
        self._pids = worker_pids
        self._database = harness.database_name(ctx.database_url)
        self._simulator_pid = ctx.simulator_pid
        table = harness.processes()
        self._worker_start = self._workers_cpu(table)  # their start-up is not the workload's
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
        rss, pss = harness.memory_bytes([p for pid in self._pids for p in harness.descendants(table, pid)])
        self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
        self.worker_cpu = self._workers_cpu(table) - self._worker_start
        self._postgres_last.update(harness.postgres_cpu_seconds(table, self._database))
        self._simulator_last = harness.tree_cpu_seconds(table, self._simulator_pid)

    def _workers_cpu(self, table: Any) -> float:
        return sum(harness.tree_cpu_seconds(table, pid) for pid in self._pids)

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
                self.args.broker,
                queue=self.deerweb_queue,
                simulator_url=self.simulator_url,
                key=SIMULATOR_KEY,
                media_root=self.scratch / "media",
            ),
            "DEERWEB_PACE_CREATES": self.args.pace,
            "DEERWEB_BENCH_SQL_KEY": self.sql_key,
            "DEERWEB_BENCH_SQL_REDIS_URL": self.redis_url,
            "BENCH_PEER_BROKER_URL": self.redis_url,
            "BENCH_PEER_QUEUE": self.peer_queue,
            "BENCH_PEER_DATABASE_URL": self.database_url,
            "BENCH_PEER_API_BASE": f"{self.simulator_url}/replicate",
            "BENCH_PEER_API_TOKEN": SIMULATOR_KEY,
        }

    def simulator(self, run_seconds: float, logs: str, webhooks: str = "ignored") -> Child:
        argv = harness.simulator_argv(
            self.port, SIMULATOR_KEY, run_seconds, logs, "--output-size", self.args.output_size, "--webhooks", webhooks
        )
        return Child("simulator", argv, dict(os.environ), self.scratch / "simulator.log")

    def web(self) -> tuple[Child, str]:
        """A web process as the Procfile starts it, on a port of its own, and its address."""
        port = harness.free_port()
        env = dict(os.environ, DEERWEB_PORT=str(port), DJANGO_ALLOWED_HOSTS="127.0.0.1")
        argv = [*harness.procfile_argv("web", env), "--no-access-log"]
        return Child("web", argv, env, self.scratch / "web.log"), f"http://127.0.0.1:{port}"

    def worker(
        self,
        app: str,
        name: str,
        pool: str = "prefork",
        concurrency: int | None = None,
        env: dict[str, str] | None = None,
    ) -> Child:
        """A worker as the Procfile runs it (DeerWeb's: `pool` threads), with the benchmark's
        concurrency unless given another, and `env` more."""
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
            str(concurrency or self.args.concurrency),
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}-{os.getpid()}@%h",
        ]
        return Child(
            f"{name} worker",
            argv,
            dict(os.environ, DEERWEB_LOG_LEVEL="INFO", **(env or {})),
            self.scratch / f"{name}.log",
        )

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

    def broker_queue_clear(self) -> None:
        """Delete DeerWeb's queue on RabbitMQ (on Redis `_deerweb` clears it), as it may hold an earlier
        workload's last messages; the worker declares it again."""
        if not self.args.broker.startswith(("amqp://", "amqps://")):
            return
        from kombu import Connection

        rabbitmq = Connection(self.args.broker, connect_timeout=5)
        try:
            with rabbitmq:
                rabbitmq.default_channel.queue_delete(self.deerweb_queue)
        except (*rabbitmq.connection_errors, *rabbitmq.channel_errors) as exc:
            raise BenchError(f"RabbitMQ did not answer: {exc!r}") from exc

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


def _wait(monitor: Monitor, expected: int, workers: list[Child], timeout: float) -> bool:
    """Until every prediction has finished; False on timeout. Raises if a worker died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if monitor.finished >= expected:
            return True
        for worker in workers:
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


def _observe(stack: ExitStack, ctx: Context, count_sql: str, workers: list[Child]) -> tuple[Monitor, Sampler]:
    """A monitor of `workers` sampled in the background; both closed when `stack` unwinds."""
    monitor = Monitor(ctx, count_sql, [worker.pid for worker in workers])
    stack.callback(monitor.close)
    sampler = Sampler(monitor.sample, ctx.args.sample_interval)
    stack.callback(sampler.stop)
    return monitor, sampler


def _finish(figures: Figures, monitor: Monitor, sampler: Sampler, workers: list[Child], timeout: float) -> None:
    """Wait for every prediction, then take the last reading with the workers still up."""
    figures.timed_out = not _wait(monitor, figures.predictions, workers, timeout)
    sampler.stop()
    if sampler.error:
        raise BenchError(f"sampling failed: {sampler.error!r}")
    monitor.sample()


def _deerweb(ctx: Context, run_seconds: float, members: list[Any], webhooks: str = "ignored") -> Figures:
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
        hints: dict[str, str] = {}
        web: Child | None = None
        if webhooks == "sent":  # DeerAPI's calls reach a web process; the worker asks for them
            web, address = ctx.web()
            stack.callback(web.stop)
            web.start("Uvicorn running on")
            hints = {"DEERWEB_PUBLIC_URL": address, "DEERWEB_DEERAPI_WEBHOOKS": "on"}
            web_cpu_before = harness.tree_cpu_seconds(harness.processes(), web.pid)
        workers = [
            ctx.worker("deerweb", f"bench-deerweb{n if n else ''}", pool="threads", env=hints)
            for n in range(args.workers)
        ]
        for worker in workers:
            stack.callback(worker.stop)
            worker.start(" ready.")
        # Beat runs beside the worker, as in production (Procfile, README); not in the worker's figures.
        beat = ctx.beat()
        stack.callback(beat.stop)
        beat.start("beat: Starting...")
        monitor, sampler = _observe(stack, ctx, DEERWEB_COUNTS, workers)
        sampler.start()

        cpu: list[float] = []
        statements: list[int] = []

        paced_from = time.monotonic()

        def submit(thread: int) -> None:
            begun, counted = time.thread_time(), counting.thread_statements()
            try:
                for index in range(thread, args.predictions, args.threads):
                    if args.rate and (wait := paced_from + index / args.rate - time.monotonic()) > 0:
                        time.sleep(wait)
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
        _finish(figures, monitor, sampler, workers, args.timeout or 120 + 4 * run_seconds + 0.3 * args.predictions)
        _monitor_into(figures, monitor, machine_before)
        if web is not None:
            figures.web_cpu = harness.tree_cpu_seconds(harness.processes(), web.pid) - web_cpu_before

    _requests_into(figures, ctx.simulator_stats())
    figures.worker_statements = harness.redis_counter(ctx.redis_url, ctx.sql_key)
    rows = list(Prediction.objects.values_list("status", "deerapi_id", "completed_at", "created_at"))
    for status, _id, _done, _created in rows:
        figures.statuses[status] = figures.statuses.get(status, 0) + 1
    done = [(deerapi_id, completed) for status, deerapi_id, completed, _created in rows if status == Status.SUCCEEDED]
    figures.waits = [
        (completed - created).total_seconds() for status, _id, completed, created in rows if status == Status.SUCCEEDED
    ]
    figures.succeeded = len(done)
    if done:
        figures.wall = max(completed for _id, completed in done).timestamp() - started
    figures.lags = _lags(ctx, done)
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


def _column(key: str, figures: Figures, args: argparse.Namespace) -> str:
    if key == "run":
        reduced = ", fewer" if figures.predictions < args.predictions else ""
        return f"{PEERS[key]}, {args.peer_slots} slots ({figures.predictions} predictions{reduced})"
    return f"{PEERS[key]}, {args.async_in_flight} in flight ({figures.predictions} predictions)"


def _workload_table(workload: Workload, args: argparse.Namespace) -> str:
    """DeerWeb beside each peer that ran: a column each."""
    columns = [workload.deerweb, *workload.peers.values()]
    headers = [
        "",
        f"DeerWeb ({workload.deerweb.predictions} predictions)",
        *(_column(key, figures, args) for key, figures in workload.peers.items()),
    ]

    def finished(figures: Figures) -> str:
        text = f"{figures.succeeded} of {figures.predictions} succeeded"
        others = {k: v for k, v in figures.statuses.items() if k != "succeeded" and v}
        if others:
            text += " (" + ", ".join(f"{v} {k}" for k, v in sorted(others.items())) + ")"
        return text + (" — TIMED OUT" if figures.timed_out else "")

    figures_rows: list[tuple[str, Callable[[Figures], str]]] = [
        ("Outcome", finished),
        ("Throughput: predictions stored (peers: in hand) per second", lambda f: f"{f.throughput:.1f} / s"),
        ("Wall time until all stored", lambda f: _seconds(f.wall)),
        ("Time to submit all", lambda f: _seconds(f.submit_seconds, 2)),
        ("In flight at the peak (starting, processing, storing)", lambda f: str(f.peak_in_flight)),
        ("DeerAPI requests per prediction", lambda f: f"{f.per_prediction:.2f}"),
        ("  creates / polls per prediction", _split),
        ("Lag, DeerAPI done → shown succeeded (peers: in hand): median / p95", _lag),
        ("Submitted → shown succeeded (DeerWeb): median / p95", _submitted_to_shown),
        ("Worker RSS at the peak (process tree; async: the script)", _memory),
        ("Worker CPU time (per prediction)", _cpu),
        ("CPU per prediction: PostgreSQL / simulator / submitting / web (DeerAPI's calls)", _other_cpu),
        ("SQL statements per prediction: worker / create", _statements),
        ("All CPUs busy during the run (any process)", lambda f: f"{f.machine_busy:.0%}"),
    ]
    rows = [[name, *(show(figures) for figures in columns)] for name, show in figures_rows]
    return harness.table(headers, rows)


def _cpu(figures: Figures) -> str:
    return f"{figures.worker_cpu:.1f} s ({figures.worker_cpu / (figures.predictions or 1) * 1000:.0f} ms)"


def _other_cpu(figures: Figures) -> str:
    n = (figures.predictions or 1) / 1000
    web = f"{figures.web_cpu / n:.1f}" if figures.web_cpu else "–"
    return (
        f"{figures.postgres_cpu / n:.0f} / {figures.simulator_cpu / n:.0f} / {figures.submitter_cpu / n:.0f} / {web} ms"
    )


def _statements(figures: Figures) -> str:
    if figures.worker_statements is None or figures.create_statements is None:
        return "–"
    n = figures.predictions or 1
    return f"{figures.worker_statements / n:.1f} / {figures.create_statements / n:.1f}"


def _memory(figures: Figures) -> str:
    if not figures.peak_pss:  # the async script reports its peak RSS only
        return f"{figures.peak_rss / MB:.0f} MB"
    return f"{figures.peak_rss / MB:.0f} MB (PSS {figures.peak_pss / MB:.0f} MB)"


def _split(figures: Figures) -> str:
    n = figures.predictions or 1
    return f"{figures.creates / n:.2f} / {figures.gets / n:.2f}"


def _median_p95(seconds: list[float]) -> str:
    return f"{_seconds(harness.percentile(seconds, 50), 2)} / {_seconds(harness.percentile(seconds, 95), 2)}"


def _submitted_to_shown(figures: Figures) -> str:
    return _median_p95(figures.waits) if figures.waits else "–"


def _lag(figures: Figures) -> str:
    return _median_p95(figures.lags)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _targets(workloads: list[Workload], args: argparse.Namespace) -> list[str]:
    longest = max(workloads, key=lambda w: w.run_seconds)
    peaks = ", ".join(f"{w.deerweb.peak_in_flight} at {w.name}" for w in workloads)
    by = _worker_processes(args.workers, article="the")
    tracked = (
        f"all {args.predictions} tracked at once by {by} (judged on the {longest.run_seconds:g} s workload; at "
        f"shorter run times predictions finish while others are still being sent): peak in flight {peaks}"
    )
    lines = [
        f"{_verdict(longest.deerweb.peak_in_flight >= args.predictions)}  {tracked}"
        if args.pace == "off"
        else f"INFO  creates paced to what the worker stores, so not all {args.predictions} are in flight at once "
        f"(without --pace on it is judged): peak in flight {peaks}",
    ]
    p95s = [w.deerweb.lag_p95 for w in workloads]
    lag_ok = all(not math.isnan(p) and p <= LAG_P95_TARGET for p in p95s)
    lines.append(
        f"{_verdict(lag_ok)}  p95 lag ≤ {LAG_P95_TARGET:g} s: "
        + ", ".join(f"{p:.2f} s at {w.name}" for p, w in zip(p95s, workloads, strict=True))
    )
    with_peer = [(w, w.peers["run"]) for w in workloads if "run" in w.peers and w.peers["run"].requests]
    if with_peer:
        ours = statistics.fmean(w.deerweb.per_prediction for w, _peer in with_peer)
        theirs = statistics.fmean(peer.per_prediction for _w, peer in with_peer)
        each = ", ".join(f"{w.deerweb.per_prediction / peer.per_prediction:.2f} at {w.name}" for w, peer in with_peer)
        lines.append(
            f"{_verdict(ours <= theirs * REQUEST_RATIO_TARGET)}  requests per prediction ≤ a third of "
            f"the run() peer's on average over the workloads: {ours:.2f} vs {theirs:.2f} = "
            f"{ours / theirs:.2f} (per workload: {each})"
        )
    else:
        lines.append("MISS  requests per prediction against the run() peer: it did not run")
    with_async = [(w, w.peers["async"]) for w in workloads if "async" in w.peers]
    if with_async:
        ratios = [w.deerweb.throughput / peer.throughput for w, peer in with_async]
        ok = all(not math.isnan(ratio) and ratio >= THROUGHPUT_RATIO_TARGET for ratio in ratios)
        lines.append(
            f"{_verdict(ok)}  throughput ≥ {THROUGHPUT_RATIO_TARGET:g}× the async_run() script's: "
            + ", ".join(
                f"{w.deerweb.throughput:.1f} vs {peer.throughput:.1f} / s = {ratio:.2f}× at {w.name}"
                for (w, peer), ratio in zip(with_async, ratios, strict=True)
            )
        )
    else:
        lines.append("MISS  throughput against the async_run() script: it did not run")
    rss = max(w.deerweb.peak_rss for w in workloads) / MB / args.workers
    each = " each (the peak of their sum, divided)" if args.workers > 1 else ""
    lines.append(f"{_verdict(rss <= RSS_TARGET_MB)}  worker RSS ≤ {RSS_TARGET_MB} MB: {rss:.0f} MB{each} at the peak")
    return lines


def _worker_processes(n: int, article: str = "") -> str:
    if n == 1:
        return f"{article or 'one'} Celery worker process"
    return f"{article + ' ' if article else ''}{n} Celery worker processes"


def _workload(
    ctx: Context, args: argparse.Namespace, members: list, run_seconds: float, logs: str, webhooks: str
) -> Workload:
    """One workload in one world: its own simulator process, DeerWeb, then the peers (in the world
    without webhooks); printed."""
    starting, processing = harness.simulator_timings(run_seconds)
    simulator = ctx.simulator(run_seconds, logs, webhooks).start("listening on")
    ctx.simulator_pid = simulator.pid
    try:
        world = "progress bars in the logs" if logs == "progress" else "no progress bar in the logs"
        world += "; DeerAPI calls each create's webhook as it ends" if webhooks == "sent" else ""
        print(
            f"-- {run_seconds:g} s workload (simulator: {starting:g} s starting + {processing:g} s processing; "
            f"{world}) --",
            flush=True,
        )
        ctx.broker_queue_clear()
        deerweb = _deerweb(ctx, run_seconds, members, webhooks)
        measured: dict[str, Figures] = {}
        if "run" in args.peers and args.peer_predictions and webhooks == "ignored":
            measured["run"] = peers.run_peer(ctx, run_seconds, members, args.peer_predictions)
        if "async" in args.peers and webhooks == "ignored":
            measured["async"] = peers.async_peer(ctx, members, args.predictions)
    finally:
        simulator.stop()
    workload = Workload(run_seconds, deerweb, measured, logs, webhooks)
    print(_workload_table(workload, args))
    print(flush=True)
    return workload


def run(args: argparse.Namespace) -> int:
    _positive(args)
    print("== Pipeline: DeerWeb against the official replicate client ==")
    print(f"Command: {harness.command_line()}")
    for line in harness.machine_lines(args.database_url, args.redis_url):
        print(line)
    broker = "RabbitMQ" if args.broker.startswith("amqp") else "Redis"
    print(
        f"Workers: DeerWeb's, {_worker_processes(args.workers)}, each as the Procfile starts it (a pool of "
        f"{args.concurrency} threads, and its poller's {os.environ.get('DEERWEB_POLL_THREADS') or 8} threads), "
        f"on {broker}, "
        f"with production settings and beat as its own process (not counted), creates "
        f"{'paced to what it stores (DEERWEB_PACE_CREATES=on)' if args.pace == 'on' else 'not paced'}; "
        f"the run() peer's, prefork, "
        f"concurrency {args.peer_slots}, on Redis; the async_run() script, one process, {args.async_in_flight} "
        f"in flight; the simulator in its own process"
    )
    size = "1 MP (1024×1024, as heavy as a real picture)" if args.output_size == "full" else "256×256"
    print(
        f"Workload: {args.members} members submit {args.predictions} predictions "
        f"{f'at {args.rate:g} a second' if args.rate else 'at once'} from {args.threads} "
        f"threads; model {MODEL}, 1 webp image each of {size}; run() peer: {args.peer_predictions} predictions"
    )
    print(flush=True)
    ctx = Context(args)
    workloads: list[Workload] = []
    try:
        members = _setup(ctx)
        for webhooks in args.webhooks:
            for logs in args.logs:
                for run_seconds in args.run_seconds:
                    workloads.append(_workload(ctx, args, members, run_seconds, logs, webhooks))
    finally:
        ctx.close()
    print("Targets (DeerWeb):")
    for line in _targets(workloads, args):
        print(f"  {line}")
    return 0
