"""SQL statements counted in the processes a benchmark starts (installed by bench.settings).

Each process counts the statements its database connections run. A worker adds its count to
the Redis key `DEERWEB_BENCH_SQL_KEY` (on `DEERWEB_BENCH_SQL_REDIS_URL`, or the broker's Redis) after
each task and every FLUSH_EVERY seconds (its pollers run no task; one INCRBY), so `bench pipeline`
can print statements per prediction; the benchmark's own process reads its count directly.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from django.apps import AppConfig

_counted = 0
FLUSH_EVERY = 0.2
_thread = threading.local()


def thread_statements() -> int:
    """Statements the calling thread ran since it started."""
    return getattr(_thread, "counted", 0)


def _count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    global _counted
    _counted += 1
    _thread.counted = thread_statements() + 1
    return execute(sql, params, many, context)


def _wrap(sender: Any, connection: Any, **kwargs: Any) -> None:
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


class CountingConfig(AppConfig):
    name = "bench"
    label = "bench_counting"
    verbose_name = "Benchmark statement counter"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(_wrap, dispatch_uid="bench_counting")
        key = os.environ.get("DEERWEB_BENCH_SQL_KEY")
        if key:
            self._flush_after_tasks(key)

    @staticmethod
    def _flush_after_tasks(key: str) -> None:
        import redis
        from celery.signals import task_postrun, worker_ready
        from django.conf import settings

        # On Redis, whatever the broker: `bench pipeline --broker amqp://…` keeps its counter there.
        client = redis.Redis.from_url(os.environ.get("DEERWEB_BENCH_SQL_REDIS_URL") or settings.CELERY_BROKER_URL)
        flushed = 0
        lock = threading.Lock()

        def flush(**kwargs: Any) -> None:
            nonlocal flushed
            with lock:
                counted = _counted
                if counted > flushed:
                    client.incrby(key, counted - flushed)
                    flushed = counted

        def flush_now_and_then(**kwargs: Any) -> None:
            def loop() -> None:
                while True:
                    threading.Event().wait(FLUSH_EVERY)
                    flush()

            threading.Thread(target=loop, name="bench-sql-flush", daemon=True).start()

        task_postrun.connect(flush, weak=False, dispatch_uid="bench_counting_flush")
        worker_ready.connect(flush_now_and_then, weak=False, dispatch_uid="bench_counting_flush_thread")
