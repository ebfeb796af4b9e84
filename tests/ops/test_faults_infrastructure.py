"""Crashes around the pipeline: a worker killed mid-task, Redis restarted, PostgreSQL
connections dropped. After recovery every prediction ends correctly, none is created
twice at DeerAPI and no output is lost.
"""

import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from predictions.models import Prediction, Prompt, Status
from tests.world import SCHNELL, Worker, free_port, redis_server, submit, wait_for, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_while_sending_a_create_leaves_it_unknown_not_duplicated(worker, simulator, member):
    simulator.inject("create", delay=2.5)  # DeerAPI takes it, then answers slowly
    prediction = submit(member)
    wait_until(lambda: simulator.stats.create_requests == 1, what="the create reaching DeerAPI")
    worker.kill()
    worker.start()
    # The claim's lease runs out, the sweep cannot know whether DeerAPI took it.
    prediction = wait_for(prediction, Status.UNKNOWN, timeout=60)
    time.sleep(2)
    assert simulator.stats.create_requests == 1
    assert "worker stopped" in prediction.error


def test_a_worker_killed_while_downloading_outputs_stores_them_after_restart(worker, simulator, member):
    simulator.inject("file", delay=3, count=2)
    prediction = wait_for(submit(member, num_outputs=2), Status.STORING, timeout=30)
    wait_until(lambda: simulator.stats.file_downloads >= 1, what="a download starting")
    worker.kill()
    worker.start()
    prediction = wait_for(prediction, Status.SUCCEEDED, timeout=90)
    assert simulator.stats.creates == 1
    assert sorted(prediction.outputs.values_list("index", flat=True)) == [0, 1]


def _queued_without_message(owner, count: int) -> list[Prediction]:
    """Predictions saved but whose submit message is nowhere: only the sweep can find them."""
    prompt = Prompt.objects.create(owner=owner, text="a herd of reindeer")
    return [
        Prediction.objects.create(
            owner=owner, prompt=prompt, model_id=SCHNELL, input={"prompt": prompt.text}, next_poll_at=timezone.now()
        )
        for _ in range(count)
    ]


@pytest.mark.redis
def test_redis_restarted_while_predictions_are_in_flight_loses_nothing(
    worker_session, simulator, member, tmp_path: Path
):
    port = free_port()
    redis = redis_server(port)
    env = dict(worker_session.env, CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0")
    worker = Worker(env, tmp_path / "worker.log")
    simulator.processing_seconds = 3.0
    try:
        worker_session.stop()  # only the worker on the private Redis works on this
        worker.start()
        predictions = _queued_without_message(member, 6)
        wait_until(
            lambda: Prediction.objects.filter(status=Status.PROCESSING).count() >= 3,
            timeout=30,
            what="predictions processing",
        )
        redis.kill()
        redis.wait(10)
        time.sleep(2)
        redis = redis_server(port)  # a new, empty Redis: every queued message is gone
        # Celery's Redis transport sometimes exits the worker when its broker
        # vanishes; in production the supervisor (compose `restart:`, systemd)
        # starts it again, as here.
        time.sleep(5)
        if worker.process.poll() is not None:
            worker.start()
        for prediction in predictions:
            try:
                wait_for(prediction, Status.SUCCEEDED, timeout=90)
            except AssertionError:
                print(worker.log()[-6000:])
                raise
    finally:
        simulator.processing_seconds = 0.6
        worker.kill()
        redis.kill()
    assert simulator.stats.creates == 6
    assert len({p.deerapi_id for p in Prediction.objects.all()}) == 6


@pytest.mark.postgresql  # SQLite has no connections to drop
def test_dropped_database_connections_during_polls_are_recovered(worker, simulator, member):
    simulator.processing_seconds = 4.0
    try:
        predictions = [submit(member) for _ in range(3)]
        for prediction in predictions:
            wait_for(prediction, Status.PROCESSING, timeout=30)
        # Hold the next polls open at DeerAPI while the worker holds its connections.
        simulator.inject("get", delay=2, count=3)
        gets = simulator.stats.gets
        wait_until(lambda: simulator.stats.gets > gets, what="a poll in progress")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchall(), "the worker's connections were dropped"
        for prediction in predictions:
            wait_for(prediction, Status.SUCCEEDED, timeout=90)
    finally:
        simulator.processing_seconds = 0.6
        # This process's pooled connections were dropped too: start the next test with a new pool
        # rather than one whose checks back off (1 s, 2 s, 4 s, …) through every dead connection.
        connection.close_pool()
    assert simulator.stats.creates == 3
    assert all(p.outputs.count() == 1 for p in predictions)
