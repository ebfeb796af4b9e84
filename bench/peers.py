"""The pipeline benchmark's two peers, measured on the same simulator as DeerWeb.

`run()`: Celery tasks calling the `replicate` client's `run` (bench/peer.py), on a worker of its own
with `--peer-slots` prefork processes (8: what a team's Celery worker gives a task per prediction),
whatever DeerWeb's worker concurrency is; it follows `--peer-slots` predictions at a time.

`async_run()`: the strongest script, the same client's `async_run` with `--async-in-flight`
predictions in flight (100, httpx's pool size), in a process of its own (bench/peer_async.py), over
every prediction of the workload. Neither stores anything but the output's URL.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psycopg

from . import harness
from .harness import BenchError, Child

if TYPE_CHECKING:
    from .pipeline import Context, Figures

# Sampled: (in flight, finished).
PEER_COUNTS = (
    "SELECT count(*) FILTER (WHERE started_at IS NOT NULL AND stored_at IS NULL AND error IS NULL), "
    "count(*) FILTER (WHERE stored_at IS NOT NULL OR error IS NOT NULL) FROM bench_peer_job"
)
# The peers keep only output URLs; the simulator's name the prediction: /files/<id>/out-0.webp.
_FILE_URL = re.compile(r"/files/([^/]+)/")


def run_peer(ctx: Context, run_seconds: float, members: list[Any], count: int) -> Figures:
    """`count` predictions through Celery tasks calling `replicate.run`, `--peer-slots` at a time."""
    from . import peer
    from .pipeline import MODEL, Figures, _finish, _input, _monitor_into, _observe, _requests_into, _tables_reset

    args = ctx.args
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
        worker = ctx.worker("bench.peer", "bench-peer", concurrency=args.peer_slots)
        stack.callback(worker.stop)
        worker.start(" ready.")
        monitor, sampler = _observe(stack, ctx, PEER_COUNTS, [worker])
        sampler.start()
        machine_before = harness.machine_cpu_times()
        started, begun = datetime.now(UTC), time.thread_time()
        for index in range(count):
            member = members[index % len(members)].username
            peer.app.send_task(
                "bench.peer.run_prediction", args=[index, MODEL, _input(index, member)], queue=ctx.peer_queue
            )
        figures.submit_seconds = (datetime.now(UTC) - started).total_seconds()
        figures.submitter_cpu = time.thread_time() - begun
        rounds = math.ceil(count / args.peer_slots)
        _finish(figures, monitor, sampler, [worker], args.timeout or 120 + rounds * (run_seconds + 2) * 2)
        _monitor_into(figures, monitor, machine_before)

    _requests_into(figures, ctx.simulator_stats())
    with psycopg.connect(ctx.database_url) as conn:
        rows = conn.execute("SELECT output_url, stored_at, error FROM bench_peer_job").fetchall()
    done = [(url or "", stored.timestamp()) for url, stored, error in rows if stored is not None and not error]
    _outcome_into(figures, ctx, started.timestamp(), done, failed=sum(1 for row in rows if row[2]))
    return figures


def async_peer(ctx: Context, members: list[Any], count: int) -> Figures:
    """`count` predictions through `replicate`'s `async_run`, `--async-in-flight` at a time."""
    from .pipeline import MODEL, SIMULATOR_KEY, Figures, _input, _requests_into

    args = ctx.args
    figures = Figures(count)
    ctx.simulator_reset()
    inputs_path, results_path = ctx.scratch / "async-inputs.json", ctx.scratch / "async-results.json"
    inputs = [_input(index, members[index % len(members)].username) for index in range(count)]
    inputs_path.write_text(json.dumps(inputs))
    results_path.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "bench.peer_async",
        "--base-url",
        f"{ctx.simulator_url}/replicate",
        "--model",
        MODEL,
        "--inputs",
        str(inputs_path),
        "--results",
        str(results_path),
        "--in-flight",
        str(args.async_in_flight),
    ]
    env = dict(os.environ, REPLICATE_API_TOKEN=SIMULATOR_KEY)
    script = Child("async_run() script", argv, env, ctx.scratch / "peer-async.log")
    table = harness.processes()
    simulator_before = harness.tree_cpu_seconds(table, ctx.simulator_pid)
    machine_before = harness.machine_cpu_times()
    with ExitStack() as stack:
        stack.callback(script.stop)
        script.start("started")
        assert script.process is not None
        try:
            status = script.process.wait(args.timeout or 120 + 4 * count)
        except subprocess.TimeoutExpired:
            figures.timed_out = True
            status = None
    busy, total = (now - before for now, before in zip(harness.machine_cpu_times(), machine_before, strict=True))
    figures.machine_busy = busy / total if total else float("nan")
    figures.simulator_cpu = harness.tree_cpu_seconds(harness.processes(), ctx.simulator_pid) - simulator_before
    if figures.timed_out:
        return figures
    if status != 0 or not results_path.exists():
        raise BenchError(f"the async_run() script failed:\n{script.tail()}")
    results = json.loads(results_path.read_text())
    figures.worker_cpu = results["cpu_seconds"]
    figures.peak_rss = results["peak_rss_bytes"]
    figures.peak_in_flight = results["peak_in_flight"]
    figures.submit_seconds = float("nan")  # each create goes out when a slot frees
    _requests_into(figures, ctx.simulator_stats())
    jobs = results["jobs"]
    done = [(job["url"], job["done"]) for job in jobs if "url" in job]
    _outcome_into(figures, ctx, results["started"], done, failed=sum(1 for job in jobs if "error" in job))
    return figures


def _outcome_into(figures: Figures, ctx: Context, started: float, done: list[tuple[str, float]], failed: int) -> None:
    """Outcome, wall time and lags from each succeeded prediction's output URL and when it was in hand."""
    from .pipeline import _lags

    figures.succeeded = len(done)
    figures.statuses = {"succeeded": len(done), "failed": failed}
    figures.statuses["unfinished"] = figures.predictions - len(done) - failed
    if done:
        figures.wall = max(in_hand for _url, in_hand in done) - started
    pairs = []
    for url, in_hand in done:
        match = _FILE_URL.search(url)
        if match:
            pairs.append((match.group(1), datetime.fromtimestamp(in_hand, UTC)))
    figures.lags = _lags(ctx, pairs)
