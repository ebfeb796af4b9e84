"""Task priorities (deerweb/settings.py, CELERY_TASK_ROUTES): Redis and RabbitMQ read Celery's numbers
in opposite ways, and on each a due poll is taken before the creates queued ahead of it."""

import pytest
from celery import current_app
from django.utils import timezone

from predictions import services
from predictions.models import Status
from tests.world import Worker, load_settings, submit, submitted, updated, wait_for

SHOW_PRIORITIES = (
    "import deerweb.settings as s; routes = s.CELERY_TASK_ROUTES; "
    "print(routes['predictions.tasks.submit']['priority'], routes['webhooks.tasks.deliver']['priority'], "
    "routes['*']['priority'], getattr(s, 'CELERY_TASK_QUEUE_MAX_PRIORITY', None), "
    "getattr(s, 'CELERY_TASK_DEFAULT_QUEUE', None))"
)


@pytest.mark.parametrize(
    ("broker", "priorities"),
    [
        # Redis takes the lowest number first (Celery's own queue).
        ("redis://127.0.0.1:6379/0", ["6", "3", "0", "None", "None"]),
        # RabbitMQ takes the highest first, from a queue declared with x-max-priority.
        ("amqp://guest:guest@127.0.0.1:5672//", ["1", "2", "3", "3", "deerweb"]),
    ],
)
def test_creates_are_sent_at_the_priority_each_broker_takes_last_and_polls_at_the_one_it_takes_first(
    broker, priorities
):
    result = load_settings(SHOW_PRIORITIES, DJANGO_SECRET_KEY="k" * 50, CELERY_BROKER_URL=broker)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == priorities


CREATES = 16


@pytest.mark.services
@pytest.mark.priorities
@pytest.mark.django_db(transaction=True)
def test_without_pollers_a_due_poll_is_taken_before_the_creates_queued_ahead_of_it(
    worker_session, simulator, member, tmp_path, settings
):
    # Messages for every create and poll (DEERWEB_POLL_THREADS=0; pollers claim polls first:
    # tests/predictions/test_poller.py). The sweep would send late creates again, out of their
    # queue order: not within this test.
    settings.POLL_THREADS = 0
    env = dict(worker_session.env, DEERWEB_SWEEP_GRACE="600", DEERWEB_POLL_THREADS="0")
    worker = Worker(env, tmp_path / "worker.log")
    worker_session.stop()  # nothing takes a message until every one is queued
    running = submitted(member)
    current_app.control.purge()  # its own poll, queued before the creates
    simulator.inject("create", delay=1.0, count=CREATES)  # each keeps a pool process for a second
    creates = [submit(member) for _ in range(CREATES)]
    updated(running, next_poll_at=timezone.now())
    services.enqueue("poll", running.pk)
    try:
        worker.start()
        running = wait_for(running, Status.SUCCEEDED, timeout=30)
    finally:
        worker.stop()
        current_app.control.purge()

    for prediction in creates:
        prediction.refresh_from_db()
    sent_before = [p for p in creates if p.submitted_at is not None and p.submitted_at < running.completed_at]
    # First in line, the poll shares the 4 pool processes with 3 creates at most, and those need a
    # second at DeerAPI: none is usually back before the prediction is stored. Taken in the order
    # sent, the poll would wait until 12 creates were back.
    assert len(sent_before) <= 3, worker.log()[-3000:]
