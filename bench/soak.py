"""Soak benchmark: 10,000 predictions through two workers while DeerAPI misbehaves.

Real PostgreSQL (a dedicated database, dropped and migrated at the start), the broker (Redis, or
RabbitMQ with `--broker amqp://…`), the DeerAPI simulator as its own process with faults met at
random on creates, polls and file downloads (a 5xx answer, an answer later than DeerWeb waits, a
connection closed without an answer), `--workers` Celery workers started as the Procfile starts
them, and beat as its own process. Members submit every prediction at once through
`services.prediction_create`, from `--threads` threads, as `bench pipeline` does.

Printed: predictions by final status (failures and unknown outcomes with their reasons: *outcome
unknown* after a create that may have reached DeerAPI is the correct end), any lost or stuck, how
many predictions DeerAPI started for each of DeerWeb's (never more than one), the faults met,
each worker's resident memory over the run and whether it stays flat, the broker's queues once
every prediction has ended and once the processes stopped, wall time and throughput.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests

from . import harness
from .harness import BenchError, Child, Sampler

MODEL = "black-forest-labs/flux-schnell"
SIMULATOR_KEY = "bench-deerapi-key"  # noqa: S105 - the simulator's key, not a secret
FINAL = ("succeeded", "failed", "canceled", "unknown")
ACTIVE = ("queued", "submitting", "starting", "processing", "storing")
# The simulator's routes the faults are met on, as this benchmark names them.
FAULT_ROUTES = {"create": "creates", "get": "polls", "file": "file downloads"}
FAULT_KINDS = {"error": "5xx answer", "timeout": "timeout", "drop": "dropped (no answer)"}
# Each prediction's prompt names it, so the simulator's list of predictions can be matched to DeerWeb's.
_PROMPT_INDEX = re.compile(r"^soak (\d+):")
# "… An admin can … resolve it. (DeerAPI answered 504 to the create: Gateway Timeout (simulated))"
_CAUSE = re.compile(r"\.\s\((.*)\)\s*$")
MB = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--predictions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes, each as the Procfile starts one")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="DEERWEB_WORKER_CONCURRENCY for the Procfile's worker command (default: the Procfile's own default)",
    )
    parser.add_argument("--error-rate", type=float, default=0.02, help="share of requests answered with a 5xx")
    parser.add_argument("--timeout-rate", type=float, default=0.01, help="share of requests answered too late")
    parser.add_argument("--drop-rate", type=float, default=0.01, help="share of requests hung up on unanswered")
    parser.add_argument(
        "--fault-routes",
        nargs="+",
        choices=list(FAULT_ROUTES),
        default=list(FAULT_ROUTES),
        help="where faults are met: creates, polls (get) and file downloads",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=2.0,
        help="DEERAPI_READ_TIMEOUT of the workers (seconds); a `timeout` fault answers a second later",
    )
    parser.add_argument("--run-seconds", type=float, default=2.0, help="simulated run time of each prediction")
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--threads", type=int, default=4, help="threads calling prediction_create")
    parser.add_argument("--sample-interval", type=float, default=2.0, help="seconds between memory samples")
    parser.add_argument(
        "--flat-tolerance",
        type=float,
        default=0.10,
        help="memory is flat when its last quarter's mean is at most this much above its second quarter's",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulator's random faults")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds to wait for every prediction to end (default: from size)"
    )
    parser.add_argument(
        "--broker",
        default=None,
        help="the Celery broker: redis://… or amqp://guest:guest@127.0.0.1:5672// (default: --redis-url)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the scratch folder (logs, images) and print it")
    harness.add_common_arguments(parser)


def _check(args: argparse.Namespace) -> None:
    for name in ("predictions", "workers", "members", "threads"):
        if getattr(args, name) < 1:
            raise BenchError(f"--{name} must be at least 1")
    if args.concurrency is not None and args.concurrency < 1:
        raise BenchError("--concurrency must be at least 1")
    rates = (args.error_rate, args.timeout_rate, args.drop_rate)
    if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
        raise BenchError("each fault rate is from 0 to 1, and together they are at most 1")
    if min(args.read_timeout, args.run_seconds, args.sample_interval, args.flat_tolerance) <= 0:
        raise BenchError("--read-timeout, --run-seconds, --sample-interval and --flat-tolerance must be positive")


# --- Memory over time -------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """A worker's memory over a run: the mean of its second quarter of samples (once started up
    and busy) against the mean of its last quarter."""

    second_quarter: float
    last_quarter: float
    tolerance: float

    @property
    def growth(self) -> float:
        return self.last_quarter / self.second_quarter - 1 if self.second_quarter else float("nan")

    @property
    def flat(self) -> bool:
        return self.last_quarter <= self.second_quarter * (1 + self.tolerance)


def memory_trend(samples: Sequence[float], tolerance: float) -> Trend | None:
    """The trend of samples taken at even intervals; None with fewer than 8 (too short to tell).

    The first quarter is left out: it is the start-up and the first burst of work, when memory
    rightly grows. A leak keeps growing after it, so the last quarter ends above the second.
    """
    quarter = len(samples) // 4
    if quarter < 2:
        return None
    second = statistics.fmean(samples[quarter : 2 * quarter])
    last = statistics.fmean(samples[-quarter:])
    return Trend(second, last, tolerance)


# --- The run ----------------------------------------------------------------------------------


@dataclass
class Figures:
    predictions: int
    statuses: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, Counter[str]] = field(default_factory=dict)  # failed / unknown: by error
    submit_seconds: float = float("nan")
    wall: float = float("nan")
    timed_out: bool = False
    started_per_prediction: Counter[int] = field(default_factory=Counter)  # started at DeerAPI → predictions
    unknown_started: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    rss: dict[str, list[float]] = field(default_factory=dict)  # worker → samples (bytes)
    queues_at_end: dict[str, int] = field(default_factory=dict)
    drain_seconds: float | None = None
    queues_after_stop: dict[str, int] = field(default_factory=dict)


class Run:
    """The services, the simulator's address, the processes and a scratch folder of one run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.broker = args.broker or args.redis_url
        self.queue = harness.queue_name(args.database_url, "deerweb")
        self.port = harness.free_port()
        self.simulator_url = f"http://127.0.0.1:{self.port}"
        self.scratch = Path(tempfile.mkdtemp(prefix="deerweb-soak-"))
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {SIMULATOR_KEY}"

    def environment(self) -> dict[str, str]:
        env = harness.deerweb_environment(
            self.args.database_url,
            self.broker,
            queue=self.queue,
            simulator_url=self.simulator_url,
            key=SIMULATOR_KEY,
            media_root=self.scratch / "media",
        )
        env["DEERAPI_READ_TIMEOUT"] = str(self.args.read_timeout)
        if self.args.concurrency is not None:
            env["DEERWEB_WORKER_CONCURRENCY"] = str(self.args.concurrency)
        return env

    def simulator(self) -> Child:
        args = self.args
        argv = harness.simulator_argv(
            self.port,
            SIMULATOR_KEY,
            args.run_seconds,
            "plain",
            "--fault-seed",
            str(args.seed),
            "--timeout-seconds",
            str(args.read_timeout + 1),
        )
        for route in args.fault_routes:
            for kind, rate in (("error", args.error_rate), ("timeout", args.timeout_rate), ("drop", args.drop_rate)):
                if rate:
                    argv += ["--fault-rate", f"{route}:{kind}={rate}"]
        return Child("simulator", argv, dict(os.environ), self.scratch / "simulator.log")

    def worker(self, number: int) -> Child:
        env = dict(os.environ, DEERWEB_LOG_LEVEL="INFO")
        argv = [*harness.procfile_argv("worker", env), "-n", f"soak{number}-{os.getpid()}@%h"]
        return Child(f"worker {number}", argv, env, self.scratch / f"worker-{number}.log")

    def beat(self) -> Child:
        env = dict(os.environ, DEERWEB_LOG_LEVEL="INFO")
        argv = [*harness.procfile_argv("beat", env), "--schedule", str(self.scratch / "beat-schedule")]
        return Child("beat", argv, env, self.scratch / "beat.log")

    def simulator_get(self, path: str) -> Any:
        response = self.session.get(f"{self.simulator_url}/_simulator/{path}", timeout=60)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.session.close()
        if self.args.keep_logs:
            print(f"Logs and stored images: {self.scratch}")
        else:
            shutil.rmtree(self.scratch, ignore_errors=True)


class Monitor:
    """Sampled every interval: each worker's memory (its process tree) and how many predictions
    are still active."""

    def __init__(self, database_url: str, workers: list[Child]) -> None:
        self._conn = psycopg.connect(database_url, autocommit=True)
        self._workers = workers
        self.rss: dict[str, list[float]] = {worker.name: [] for worker in workers}

    def sample(self) -> None:
        table = harness.processes()
        for worker in self._workers:
            rss, _pss = harness.memory_bytes(harness.descendants(table, worker.pid))
            self.rss[worker.name].append(rss)

    def active(self) -> int:
        placeholders = ", ".join(["%s"] * len(ACTIVE))
        query = f"SELECT count(*) FROM predictions_prediction WHERE status IN ({placeholders})"  # noqa: S608
        return int(self._conn.execute(query, ACTIVE).fetchone()[0])

    def close(self) -> None:
        self._conn.close()


def _setup(run: Run) -> list[Any]:
    harness.database_recreate(run.args.database_url)
    os.environ.update(run.environment())
    os.environ["DEERWEB_LOG_LEVEL"] = "WARNING"  # this process; the workers log at INFO, as in production
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return harness.members_create(run.args.members)


def _submit(args: argparse.Namespace, members: list[Any]) -> float:
    """Every prediction through the service, from several threads; the seconds it took."""
    from django.db import connection

    from predictions import services

    def submit(thread: int) -> None:
        try:
            for index in range(thread, args.predictions, args.threads):
                owner = members[index % len(members)]
                prompt = f"soak {index}: a red deer at dawn"
                services.prediction_create(
                    owner=owner, model_id=MODEL, input={"prompt": prompt, "num_outputs": 1, "output_format": "webp"}
                )
        finally:
            connection.close()

    started = time.monotonic()
    errors = harness.run_threads(args.threads, submit)
    if errors:
        raise BenchError(f"prediction_create failed: {errors[0]!r}")
    return time.monotonic() - started


def _wait_until_ended(monitor: Monitor, processes: list[Child], timeout: float) -> bool:
    """Until no prediction is active; False on timeout. Raises if a process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if monitor.active() == 0:
            return True
        for process in processes:
            if not process.alive():
                raise BenchError(f"{process.name} died:\n{process.tail()}")
        time.sleep(0.5)
    return False


def _drain(run: Run, seconds: float = 60.0) -> float | None:
    """Seconds until the run's queue is empty (messages still held for later included); None if
    it is not within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if not any(harness.broker_queue_lengths(run.broker, [run.queue]).values()):
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def _soak(run: Run, members: list[Any]) -> Figures:
    args = run.args
    figures = Figures(args.predictions)
    harness.broker_queues_clear(run.broker, [run.queue])
    with ExitStack() as stack:
        simulator = run.simulator().start("listening on")
        stack.callback(simulator.stop)
        workers = []
        for number in range(1, args.workers + 1):
            worker = run.worker(number)
            stack.callback(worker.stop)
            workers.append(worker.start(" ready."))
        beat = run.beat()
        stack.callback(beat.stop)
        beat.start("beat: Starting...")
        monitor = Monitor(args.database_url, workers)
        stack.callback(monitor.close)
        sampler = Sampler(monitor.sample, args.sample_interval)
        stack.callback(sampler.stop)
        sampler.start()

        started = time.monotonic()
        figures.submit_seconds = _submit(args, members)
        timeout = args.timeout or 300 + args.predictions * 0.5
        figures.timed_out = not _wait_until_ended(monitor, [simulator, *workers, beat], timeout)
        figures.wall = time.monotonic() - started
        sampler.stop()
        if sampler.error:
            raise BenchError(f"sampling failed: {sampler.error!r}")
        monitor.sample()
        figures.rss = monitor.rss

        # The queues once every prediction has ended; then without beat's sweeps, until empty.
        figures.queues_at_end = harness.broker_queue_lengths(run.broker, [run.queue])
        beat.stop()
        figures.drain_seconds = _drain(run)
        figures.stats = run.simulator_get("stats")
        listed = run.simulator_get("predictions")
        for worker in workers:
            worker.stop()
        figures.queues_after_stop = harness.broker_queue_lengths(run.broker, [run.queue])

    _outcomes_into(figures, listed, args.database_url)
    return figures


def _outcomes_into(figures: Figures, listed: list[dict[str, Any]], database_url: str) -> None:
    started = Counter(int(match.group(1)) for item in listed if (match := _PROMPT_INDEX.match(item["prompt"])))
    figures.started_per_prediction = Counter(started[index] for index in range(figures.predictions))
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT status, error, input->>'prompt' FROM predictions_prediction").fetchall()
    for status, error, prompt in rows:
        figures.statuses[status] += 1
        if status in ("failed", "unknown", "canceled"):
            figures.reasons.setdefault(status, Counter())[_reason(error)] += 1
        match = _PROMPT_INDEX.match(prompt or "")
        if status == "unknown" and match and started[int(match.group(1))]:
            figures.unknown_started += 1


def _reason(error: str) -> str:
    """What an error says in short: the cause DeerWeb puts in parentheses after its explanation
    for members, or else its first line."""
    cause = _CAUSE.search(error)
    return (cause.group(1) if cause else (error.splitlines() or ["(no reason)"])[0])[:100]


# --- Printing ---------------------------------------------------------------------------------


def _mb(value: float) -> str:
    return f"{value / MB:.0f} MB"


def _outcome_table(figures: Figures) -> str:
    n = figures.predictions
    rows = []
    for status in FINAL:
        count = figures.statuses.get(status, 0)
        rows.append([status, str(count), f"{count / n:.1%}"])
        for reason, times in figures.reasons.get(status, Counter()).most_common(8):
            rows.append([f"  {reason}", str(times), ""])
    stuck = sum(figures.statuses.get(status, 0) for status in ACTIVE)
    rows.append(["still active (stuck): " + _active_list(figures), str(stuck), f"{stuck / n:.1%}"])
    lost = n - sum(figures.statuses.values())
    rows.append(["lost (submitted, not in the database)", str(lost), f"{lost / n:.1%}"])
    return harness.table(["Final status", "Predictions", "Share"], rows)


def _active_list(figures: Figures) -> str:
    return ", ".join(f"{figures.statuses[s]} {s}" for s in ACTIVE if figures.statuses.get(s)) or "none"


def _faults_table(figures: Figures, args: argparse.Namespace) -> str:
    injected = figures.stats.get("injected", {})
    sent = {
        "create": figures.stats.get("create_requests", 0),
        "get": figures.stats.get("gets", 0),
        "file": figures.stats.get("file_downloads", 0),
    }
    rows = []
    for route, name in FAULT_ROUTES.items():
        met = [injected.get(f"{route}:{kind}", 0) for kind in FAULT_KINDS]
        share = f"{sum(met) / sent[route]:.1%}" if sent[route] else "–"
        rows.append([name, str(sent[route]), *map(str, met), share])
    return harness.table(["Requests to the simulator", "Sent", *FAULT_KINDS.values(), "Faulted"], rows)


def _memory_table(figures: Figures, tolerance: float) -> str:
    rows = []
    for name, samples in figures.rss.items():
        trend = memory_trend(samples, tolerance)
        verdict = "too few samples" if trend is None else ("flat" if trend.flat else "GROWING")
        quarters = "–" if trend is None else f"{_mb(trend.second_quarter)} → {_mb(trend.last_quarter)}"
        growth = "–" if trend is None else f"{trend.growth:+.1%}"
        rows.append(
            [
                name,
                str(len(samples)),
                _mb(samples[0]),
                _mb(statistics.median(samples)),
                _mb(samples[-1]),
                _mb(max(samples)),
                quarters,
                growth,
                verdict,
            ]
        )
    headers = ["Worker RSS (process tree)", "Samples", "First", "Median", "Last", "Peak"]
    return harness.table([*headers, "Mean: 2nd → last quarter", "Growth", "Verdict"], rows)


def _summary_table(figures: Figures, run: Run) -> str:
    n = figures.predictions
    started = figures.started_per_prediction
    distribution = ", ".join(f"{times}: {count}" for times, count in sorted(started.items()))
    unknown = figures.statuses.get("unknown", 0)
    drain = "not within 60 s" if figures.drain_seconds is None else f"empty after {figures.drain_seconds:.1f} s"
    stats = figures.stats
    rows = [
        [
            "Wall time, first submit → every prediction ended",
            f"{figures.wall:.1f} s" + (" (TIMED OUT)" * figures.timed_out),
        ],
        ["Throughput", f"{n / figures.wall:.1f} predictions / s"],
        ["Time to submit all (prediction_create)", f"{figures.submit_seconds:.1f} s"],
        ["Predictions DeerAPI started per DeerWeb prediction (times: predictions)", distribution],
        ["  most for one prediction", str(max(started, default=0))],
        ["Create requests per prediction (refused 503s retried)", f"{stats.get('create_requests', 0) / n:.3f}"],
        [
            "Outcome unknown: DeerAPI had started it / had not",
            f"{figures.unknown_started} / {unknown - figures.unknown_started}",
        ],
        ["Polls per prediction", f"{stats.get('gets', 0) / n:.2f}"],
        [f"Broker queue {run.queue}: messages when all ended", _queues(figures.queues_at_end)],
        ["  after beat stopped (polls held for later included)", drain],
        ["  after the workers stopped too", _queues(figures.queues_after_stop)],
    ]
    return harness.table(["", "Soak"], rows)


def _queues(lengths: dict[str, int]) -> str:
    return ", ".join(str(length) for length in lengths.values())


def _verdicts(figures: Figures, tolerance: float) -> list[str]:
    ended = sum(figures.statuses.get(status, 0) for status in FINAL)
    most = max(figures.started_per_prediction, default=0)
    trends = {name: memory_trend(samples, tolerance) for name, samples in figures.rss.items()}
    flat = all(trend is not None and trend.flat for trend in trends.values())
    drained = figures.drain_seconds is not None and not any(figures.queues_after_stop.values())

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    return [
        f"{verdict(ended == figures.predictions)}  none lost or stuck: {ended} of {figures.predictions} ended",
        f"{verdict(most <= 1)}  at most one prediction started at DeerAPI per DeerWeb prediction: at most {most}",
        f"{verdict(flat)}  worker memory flat (last quarter ≤ second quarter + {tolerance:.0%}): "
        + ", ".join(f"{name} {'–' if t is None else f'{t.growth:+.1%}'}" for name, t in trends.items()),
        f"{verdict(drained)}  broker queue drained: "
        f"{_queues(figures.queues_after_stop)} left after the processes stopped",
    ]


def run(args: argparse.Namespace) -> int:
    _check(args)
    soak = Run(args)
    env = dict(os.environ, **soak.environment())
    rates = f"{args.error_rate:.1%} 5xx, {args.timeout_rate:.1%} timeouts, {args.drop_rate:.1%} dropped"
    print("== Soak: predictions through several workers while DeerAPI misbehaves ==")
    print(f"Command: {harness.command_line()}")
    for line in harness.machine_lines(args.database_url, args.redis_url):
        print(line)
    print(f"Broker: {soak.broker.split('@')[-1]}; PostgreSQL database {harness.database_name(args.database_url)}")
    worker = " ".join(harness.procfile_argv("worker", env)[1:])
    print(
        f"Workers: {args.workers} processes, each as the Procfile starts one (python {worker}), beat as its own "
        f"process; DEERAPI_READ_TIMEOUT={args.read_timeout:g} s"
    )
    print(
        f"Faults, at random on each request to {', '.join(FAULT_ROUTES[r] for r in args.fault_routes)}: {rates} "
        f"(a timeout answers after {args.read_timeout + 1:g} s; seed {args.seed})"
    )
    print(
        f"Workload: {args.members} members submit {args.predictions} predictions at once from {args.threads} "
        f"threads; model {MODEL}, 1 webp image each, {args.run_seconds:g} s at DeerAPI, no progress bar"
    )
    print(flush=True)
    try:
        members = _setup(soak)
        figures = _soak(soak, members)
    except BaseException:
        soak.close()
        raise
    print(_outcome_table(figures))
    print()
    print(_faults_table(figures, args))
    print()
    print(_memory_table(figures, args.flat_tolerance))
    print()
    print(_summary_table(figures, soak))
    print()
    print("Verdicts:")
    for line in _verdicts(figures, args.flat_tolerance):
        print(f"  {line}")
    soak.close()
    return 0
