"""The peer: what a team would otherwise write. A Celery task per prediction that calls the
official `replicate` client's `run` (create, then poll every 0.5 s, the client's default) and
stores nothing but the output URL.

Run as `celery -A bench.peer worker`; configured from the environment by the pipeline benchmark:
BENCH_PEER_BROKER_URL, BENCH_PEER_QUEUE, BENCH_PEER_DATABASE_URL, BENCH_PEER_API_BASE (the
simulator's /replicate) and BENCH_PEER_API_TOKEN. Standard library, Celery, psycopg and replicate
only: no Django.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import psycopg
import replicate
from celery import Celery

# Not the current app: the benchmark's own process also holds DeerWeb's app, whose tasks must
# keep going to DeerWeb's queue.
app = Celery("bench_peer", set_as_current=False)
app.conf.update(
    broker_url=os.environ.get("BENCH_PEER_BROKER_URL", "redis://127.0.0.1:6379/14"),
    broker_connection_retry_on_startup=True,
    task_default_queue=os.environ.get("BENCH_PEER_QUEUE", "bench-peer"),
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
)

TABLE_DDL = """
CREATE TABLE IF NOT EXISTS bench_peer_job (
    id integer PRIMARY KEY,
    member text NOT NULL,
    queued_at timestamptz NOT NULL,
    started_at timestamptz,
    stored_at timestamptz,
    output_url text,
    error text
)
"""

_connection: psycopg.Connection | None = None
_client: replicate.Client | None = None


def _db() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["BENCH_PEER_DATABASE_URL"], autocommit=True)
    return _connection


def _replicate() -> replicate.Client:
    global _client
    if _client is None:
        _client = replicate.Client(
            api_token=os.environ["BENCH_PEER_API_TOKEN"], base_url=os.environ["BENCH_PEER_API_BASE"]
        )
    return _client


@app.task(name="bench.peer.run_prediction")
def run_prediction(job_id: int, model: str, input: dict[str, Any]) -> None:
    db = _db()
    db.execute("UPDATE bench_peer_job SET started_at = %s WHERE id = %s", (datetime.now(UTC), job_id))
    try:
        output = _replicate().run(model, input=input)
    except Exception as exc:  # the figure is how many succeeded; the reason is kept for the report
        db.execute("UPDATE bench_peer_job SET error = %s WHERE id = %s", (f"{type(exc).__name__}: {exc}", job_id))
        return
    first = output[0] if isinstance(output, list) else output
    db.execute(
        "UPDATE bench_peer_job SET output_url = %s, stored_at = %s WHERE id = %s",
        (str(first), datetime.now(UTC), job_id),
    )
