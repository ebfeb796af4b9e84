"""ops/notifier.py: a change notified in one process wakes the requests waiting on that prediction in
another, through each backend; waiters time out on time, are woken by their own id only, never by a
rolled-back change, and the subscription comes back after its connection drops."""

from __future__ import annotations

import socket
import time

import pytest
from django.db import connection, transaction

from ops import notifier
from tests.world import free_port, notify_from_another_process, redis_server, wait_until

BACKENDS = [
    pytest.param("local"),
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgresql", marks=pytest.mark.postgresql),
]


@pytest.fixture(params=BACKENDS)
def backend(request, settings) -> str:
    """The notifier of this test process (and of the processes it starts) is the one named."""
    settings.NOTIFIER = request.param
    return request.param


def _subscribed(web_loop) -> None:
    assert web_loop.run(notifier.subscription_ready(10)), "the notifier did not subscribe"


def test_a_notification_from_another_process_wakes_the_waiter_on_that_id(backend, web_loop, db):
    _subscribed(web_loop)
    waiting = web_loop.start(notifier.wait_for_change(7, 30))
    started = time.monotonic()

    notify_from_another_process(7)

    assert waiting.result(10) is True
    assert time.monotonic() - started < 10


def test_a_waiter_that_hears_nothing_returns_false_when_its_time_is_up(backend, web_loop, db):
    _subscribed(web_loop)
    started = time.monotonic()

    assert web_loop.run(notifier.wait_for_change(8, 0.5)) is False
    assert 0.45 < time.monotonic() - started < 1.5


def test_500_waiters_in_one_loop_are_each_woken_by_their_own_id_and_by_no_other(backend, web_loop, db):
    _subscribed(web_loop)
    waiters = {pk: web_loop.start(notifier.wait_for_change(pk, 60)) for pk in range(1, 501)}
    odd = [pk for pk in waiters if pk % 2]
    even = [pk for pk in waiters if not pk % 2]

    notify_from_another_process(*odd)
    wait_until(lambda: all(waiters[pk].done() for pk in odd), timeout=20, what="every odd waiter woken")
    time.sleep(0.3)
    assert not any(waiters[pk].done() for pk in even), "a waiter was woken by another prediction's notification"

    notify_from_another_process(*even)
    wait_until(lambda: all(waiters[pk].done() for pk in even), timeout=20, what="every even waiter woken")
    assert all(waiter.result() is True for waiter in waiters.values())


def test_a_notification_in_a_rolled_back_transaction_wakes_nobody(backend, web_loop, transactional_db):
    _subscribed(web_loop)
    waiting = web_loop.start(notifier.wait_for_change(9, 1.0))
    with transaction.atomic():
        notifier.notify(9)
        transaction.set_rollback(True)
    assert waiting.result(10) is False

    waiting = web_loop.start(notifier.wait_for_change(9, 10))
    with transaction.atomic():
        notifier.notify(9)
        assert not waiting.done(), "notified before the transaction committed"
    assert waiting.result(10) is True


@pytest.mark.redis
def test_the_redis_backend_subscribes_again_after_redis_restarts_and_no_waiter_outlives_its_timeout(settings, web_loop):
    port = free_port()
    settings.NOTIFIER = "redis"
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    redis = redis_server(port)
    try:
        _subscribed(web_loop)
        waiting = web_loop.start(notifier.wait_for_change(1, 10))
        notifier.notify(1)
        assert waiting.result(10) is True

        redis.kill()
        redis.wait(10)
        started = time.monotonic()
        assert web_loop.run(notifier.wait_for_change(2, 1.0)) is False
        assert time.monotonic() - started < 1.5

        redis = redis_server(port)
        _subscribed(web_loop)
        waiting = web_loop.start(notifier.wait_for_change(3, 10))
        notifier.notify(3)
        assert waiting.result(10) is True
    finally:
        redis.kill()


def _listeners() -> set[int]:
    """The notifier's connections to the test database (their backend pids)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'deerweb-notifier'"
        )
        return {pid for (pid,) in cursor.fetchall()}


@pytest.mark.postgresql
def test_the_postgresql_backend_listens_again_after_its_connection_is_dropped(settings, web_loop, transactional_db):
    settings.NOTIFIER = "postgresql"
    _subscribed(web_loop)
    dropped = _listeners()
    assert dropped, "no listening connection"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [list(dropped)])
    wait_until(lambda: _listeners() - dropped, timeout=10, what="a new listening connection")

    _subscribed(web_loop)
    waiting = web_loop.start(notifier.wait_for_change(4, 10))
    notify_from_another_process(4)
    assert waiting.result(10) is True


def test_the_local_backend_removes_the_socket_of_a_process_that_stopped_listening(settings, tmp_path):
    settings.NOTIFIER = "local"
    settings.NOTIFY_DIR = tmp_path
    stale = tmp_path / "4242-1.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(stale))  # closed without removing its file, as a killed process leaves it

    notifier.notify(5)

    assert not stale.exists()


def test_the_local_backend_listens_on_a_socket_in_the_notify_folder_and_removes_it_when_the_loop_ends(
    settings, tmp_path, web_loop
):
    settings.NOTIFIER = "local"
    settings.NOTIFY_DIR = tmp_path / "notify"
    _subscribed(web_loop)
    assert len(list((tmp_path / "notify").glob("*.sock"))) == 1

    web_loop.close()

    assert list((tmp_path / "notify").glob("*.sock")) == []


# --- wait_until and released: what a view awaits ----------------------------------------------------


def test_wait_until_answers_at_once_when_the_condition_already_holds(web_loop):
    async def holds() -> bool:
        return True

    started = time.monotonic()
    assert web_loop.run(notifier.wait_until(holds, 11, 30)) is True
    assert time.monotonic() - started < 1


def test_wait_until_checks_again_on_each_notification_of_its_id_until_the_condition_holds(settings, web_loop):
    settings.NOTIFIER = "local"
    checks = []

    async def third_time() -> bool:
        checks.append(time.monotonic())
        return len(checks) == 3

    _subscribed(web_loop)
    waiting = web_loop.start(notifier.wait_until(third_time, 12, 30))
    notifier.notify(99)  # another prediction: no check
    notifier.notify(12)
    wait_until(lambda: len(checks) == 2, what="a second check")
    notifier.notify(12)

    assert waiting.result(10) is True
    assert len(checks) == 3


def test_wait_until_gives_up_when_its_time_is_up(web_loop):
    async def never() -> bool:
        return False

    started = time.monotonic()
    assert web_loop.run(notifier.wait_until(never, 13, 0.5)) is False
    assert 0.45 < time.monotonic() - started < 1.5


def test_a_released_read_gives_its_database_connection_back_before_the_wait(web_loop, transactional_db, member):
    from asgiref.sync import sync_to_async

    from predictions.models import User

    read = notifier.released(lambda: User.objects.filter(pk=member.pk).exists())

    async def read_then_look() -> tuple[bool, bool]:
        found = await read()
        holds_connection = await sync_to_async(lambda: connection.connection is not None)()
        return found, holds_connection

    assert web_loop.run(read_then_look()) == (True, False)
