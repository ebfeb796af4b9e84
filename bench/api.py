"""API benchmark: scripts polling the API, and requests waiting with `Prefer: wait`, on one web process.

DeerWeb's ASGI application runs in one uvicorn process (`--workers 1`, production settings) on a
dedicated PostgreSQL database (dropped, created and migrated at the start), with Redis as the
broker and so as the notifier. One member with one API token; this process makes the rows.

1. Pollers: `--pollers` clients (one connection each) GET one running prediction each, every
   `--interval` seconds, for `--seconds`. Figures: the rate reached against the rate asked for,
   latency (median, p95, p99, max) and errors.
2. Waiters: `--waiters` clients at once GET a running prediction each with `Prefer: wait=60`. Once
   all are waiting (the server has stopped using CPU), the web process's memory and threads and
   the database connections it holds
   are read; then every prediction is marked succeeded in one UPDATE and notified (as the worker
   does), and each answer's time from the notification is recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import harness
from .harness import BenchError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pollers", type=int, default=200, help="clients polling GET at once")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between a poller's requests")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the pollers poll")
    parser.add_argument("--waiters", type=int, default=500, help="requests waiting with Prefer: wait at once")
    harness.add_common_arguments(parser)


def _status_line(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def _rss_mib(pid: int) -> float:
    return int(_status_line(pid)["VmRSS"].split()[0]) / 1024


def _threads(pid: int) -> int:
    return int(_status_line(pid)["Threads"].strip())


def _db_connections(database: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
        )
        return int(cursor.fetchone()[0])


def _running(owner: Any, count: int) -> list[int]:
    """`count` predictions of `owner` running at DeerAPI (no worker touches them)."""
    from django.utils import timezone

    from predictions.models import Prediction, Prompt, Status

    prompt = Prompt.objects.create(owner=owner, text="a red deer")
    now = timezone.now()
    rows = [
        Prediction(
            owner=owner,
            prompt=prompt,
            model_id="black-forest-labs/flux-schnell",
            input={"prompt": "a red deer"},
            status=Status.PROCESSING,
            created_at=now,
            submitted_at=now,
            started_at=now,
        )
        for _ in range(count)
    ]
    return [p.pk for p in Prediction.objects.bulk_create(rows)]


async def _poll(base: str, token: str, ids: list[int], interval: float, seconds: float) -> tuple[list[float], int]:
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=len(ids) + 10, max_keepalive_connections=len(ids) + 10)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
    ) as client:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds

        async def poller(pk: int) -> None:
            nonlocal errors
            while (start := loop.time()) < end:
                try:
                    response = await client.get(f"/replicate/v1/predictions/{pk}")
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(loop.time() - start)
                await asyncio.sleep(max(0.0, interval - (loop.time() - start)))

        await asyncio.gather(*(poller(pk) for pk in ids))
    return latencies, errors


async def _wait(base: str, token: str, ids: list[int], server_pid: int, database: str) -> dict[str, Any]:
    import httpx
    from asgiref.sync import sync_to_async

    from ops import notifier
    from predictions.models import Prediction, Status

    limits = httpx.Limits(max_connections=len(ids) + 10, max_keepalive_connections=len(ids) + 10)
    figures: dict[str, Any] = {"rss_before": _rss_mib(server_pid), "threads_before": _threads(server_pid)}
    answered: dict[int, float] = {}
    statuses: dict[int, str] = {}
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}", "Prefer": "wait=60"}, limits=limits, timeout=90
    ) as client:

        async def waiter(pk: int) -> None:
            response = await client.get(f"/replicate/v1/predictions/{pk}")
            answered[pk] = time.monotonic()
            statuses[pk] = response.json().get("status", str(response.status_code))

        tasks = [asyncio.create_task(waiter(pk)) for pk in ids]
        await asyncio.sleep(0.5)
        # Every request reached the server and is waiting.
        figures["settled"] = await asyncio.to_thread(harness.tree_settled, server_pid)
        figures["early"] = len(answered)
        figures["rss_waiting"] = _rss_mib(server_pid)
        figures["threads_waiting"] = _threads(server_pid)
        figures["db_connections_waiting"] = await sync_to_async(_db_connections)(database)

        def finish() -> float:
            Prediction.objects.filter(pk__in=ids).update(status=Status.SUCCEEDED)
            for pk in ids:
                notifier.notify(pk)
            return time.monotonic()

        notified = await sync_to_async(finish)()
        await asyncio.gather(*tasks)
    figures["wake"] = [answered[pk] - notified for pk in ids]
    figures["succeeded"] = sum(1 for status in statuses.values() if status == "succeeded")
    return figures


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def run(args: argparse.Namespace) -> int:
    if args.pollers < 1 or args.waiters < 1 or args.interval <= 0 or args.seconds <= 0:
        raise BenchError("--pollers, --waiters, --interval and --seconds must be positive")
    print("== API: polling clients and Prefer: wait requests on one ASGI web process ==")
    print(f"Command: {harness.command_line()}")
    for line in harness.machine_lines(args.database_url, args.redis_url):
        print(line)
    scratch = Path(tempfile.mkdtemp(prefix="deerweb-bench-api-"))
    queue = harness.queue_name(args.database_url, "api")
    harness.database_recreate(args.database_url)
    server: harness.Child | None = None
    try:
        harness.django_start(args.database_url, args.redis_url, queue=queue, media_root=scratch / "media")
        from accounts.tokens import token_create
        from predictions.models import User

        member = User.objects.create_user("bench-script", "script@example.com", "unused-password-1234")
        _token, raw = token_create(member, "bench")
        poll_ids = _running(member, args.pollers)
        wait_ids = _running(member, args.waiters)

        port = harness.free_port()
        env = {**os.environ, "DEERWEB_API_RATE_LIMIT": "0", "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
        argv = [sys.executable, "-m", "uvicorn", "deerweb.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", "1", "--no-access-log", "--lifespan", "off"]
        server = harness.Child("web", argv, env, scratch / "web.log").start("Uvicorn running on")
        base = f"http://127.0.0.1:{port}"
        database = harness.database_name(args.database_url)

        print()
        print(
            f"-- {args.pollers} clients polling GET /v1/predictions/<id> "
            f"every {args.interval:g} s for {args.seconds:g} s"
        )
        table = harness.processes()
        cpu_before = harness.tree_cpu_seconds(table, server.pid)
        latencies, errors = asyncio.run(_poll(base, raw, poll_ids, args.interval, args.seconds))
        cpu = harness.tree_cpu_seconds(harness.processes(), server.pid) - cpu_before
        asked = args.pollers / args.interval
        reached = len(latencies) / args.seconds
        print(
            harness.table(
                ["requests", "asked for", "reached", "median", "p95", "p99", "max", "errors", "web CPU"],
                [
                    [
                        f"{len(latencies):,}",
                        f"{asked:,.0f} /s",
                        f"{reached:,.0f} /s",
                        _ms(harness.percentile(latencies, 50)),
                        _ms(harness.percentile(latencies, 95)),
                        _ms(harness.percentile(latencies, 99)),
                        _ms(max(latencies)),
                        str(errors),
                        f"{cpu / args.seconds * 100:.0f} % of a core",
                    ]
                ],
            )
        )

        print()
        print(f"-- {args.waiters} requests waiting at once with Prefer: wait=60, then all notified")
        figures = asyncio.run(_wait(base, raw, wait_ids, server.pid, database))
        wake = figures["wake"]
        print(
            harness.table(
                ["", "web process"],
                [
                    [
                        "memory before / while waiting",
                        f"{figures['rss_before']:.0f} / {figures['rss_waiting']:.0f} MiB",
                    ],
                    ["all waiting (server idle) after", f"{figures['settled']:.1f} s"],
                    ["threads before / while waiting", f"{figures['threads_before']} / {figures['threads_waiting']}"],
                    ["database connections while waiting", str(figures["db_connections_waiting"])],
                    ["answered before the notification", str(figures["early"])],
                    ["answered succeeded", f"{figures['succeeded']} of {args.waiters}"],
                    [
                        "notification to answer: median, p95, max",
                        f"{_ms(harness.percentile(wake, 50))}, {_ms(harness.percentile(wake, 95))}, {_ms(max(wake))}",
                    ],
                ],
            )
        )
        return 0 if errors == 0 and figures["succeeded"] == args.waiters else 1
    finally:
        if server is not None:
            server.stop()
        from django.db import connections

        connections.close_all()
        harness.database_drop(args.database_url)
        shutil.rmtree(scratch, ignore_errors=True)
