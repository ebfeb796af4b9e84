"""The shared test world's fixtures: members, a reviewer, an admin; the simulator; a real worker;
Chromium. Its plain parts (models, helpers, the worker process) are in tests/world.py."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts import roles
from common import permissions
from deerapi.simulator import Simulator
from predictions import services
from predictions.models import Prediction, User

pytest.register_assert_rewrite("tests.world", "tests.browser")

from .browser import launch, new_context  # noqa: E402
from .world import (  # noqa: E402
    FROZEN_NOW,
    PASSWORD,
    REQUIRE_SERVICES,
    S3_CREDENTIALS,
    Broker,
    Bucket,
    LoopThread,
    WebhookReceiver,
    Worker,
    database_url,
    free_port,
    s3_server,
    unavailable,
    wait_for,
    workers_start,
    workers_stop,
)

# --- The world ----------------------------------------------------------------


@pytest.fixture
def member(db) -> User:
    return User.objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def other_member(db) -> User:
    return User.objects.create_user("bob", "bob@example.com", PASSWORD)


@pytest.fixture
def reviewer(db) -> User:
    """In the Reviewer group: the review queue and every member's predictions; not staff."""
    user = User.objects.create_user("charlie", "charlie@example.com", PASSWORD)
    user.groups.add(roles.role_groups_ensure()[permissions.REVIEWER])
    return user


@pytest.fixture
def admin_user(db) -> User:
    """A superuser in the Admin group (the groups are re-created if a transactional test flushed them)."""
    user = User.objects.create_superuser("dora", "dora@example.com", PASSWORD)
    user.groups.add(roles.role_groups_ensure()[permissions.ADMIN])
    return user


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def member_token(member) -> str:
    """A personal API token of `member`'s, as the member copied it from the tokens page."""
    from accounts.tokens import token_create

    _token, raw = token_create(member, "laptop script")
    return raw


@pytest.fixture
def api(client, member_token) -> Client:
    """The API as `member`'s script calls it: every request carries the member's token."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {member_token}"
    return client


@pytest.fixture
def broker(monkeypatch) -> Broker:
    """Celery messages the code under test sends, recorded, not sent."""
    recorded = Broker()
    monkeypatch.setattr(services, "current_app", recorded)
    return recorded


@pytest.fixture
def admin_client(admin_user) -> Client:
    """The admin's own browser, beside `client` and `member_client`."""
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    """The clock stopped at world.FROZEN_NOW."""
    with time_machine.travel(FROZEN_NOW, tick=False):
        yield


# --- Simulator ------------------------------------------------------------------


@pytest.fixture(scope="session")
def simulator_session() -> Iterator[Simulator]:
    sim = Simulator(key=settings.DEERAPI_KEY, starting_seconds=0.2, processing_seconds=0.6)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def simulator(simulator_session: Simulator, settings) -> Simulator:
    """The simulator, reset, with DeerWeb in this process pointed at it."""
    simulator_session.reset()
    settings.DEERAPI_BASE_URL = simulator_session.url
    return simulator_session


# --- Real services and a real worker ----------------------------------------------


@pytest.fixture(scope="session")
def real_services() -> None:
    """A database and a broker that a worker process can share with the tests: PostgreSQL + Redis (or
    RabbitMQ), or an SQLite file + the filesystem broker. The queues start empty."""
    if connection.vendor not in ("postgresql", "sqlite"):
        unavailable(f"{connection.vendor} is not a database DeerWeb supports")
    if connection.vendor == "sqlite" and connection.creation.is_in_memory_db(connection.settings_dict["NAME"]):
        unavailable("an in-memory SQLite database cannot be shared with a worker process (DATABASE_URL)")
    broker = settings.CELERY_BROKER_URL
    if broker.startswith("redis://"):
        import redis

        try:
            redis.Redis.from_url(broker).flushdb()
        except redis.RedisError as exc:
            unavailable(f"Redis: {exc}")
    elif broker.startswith(("amqp://", "amqps://")):
        from kombu import Connection

        # Deleted, not purged: a queue left by an earlier run may have been declared otherwise.
        rabbitmq = Connection(broker, connect_timeout=5)
        try:
            with rabbitmq:
                rabbitmq.default_channel.queue_delete(settings.CELERY_TASK_DEFAULT_QUEUE)
        except (*rabbitmq.connection_errors, *rabbitmq.channel_errors) as exc:
            unavailable(f"RabbitMQ: {exc!r}")
    elif broker.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for folder in (options["data_folder_in"], options["processed_folder"], options["control_folder"]):
            for message in Path(folder).iterdir():
                message.unlink(missing_ok=True)
    else:
        unavailable(
            f"no broker a worker process can share (CELERY_BROKER_URL={broker.split(':')[0]}://): "
            "Redis is not answering on 127.0.0.1:6379; set redis://…, amqp://… or filesystem://"
        )


@pytest.fixture(scope="session")
def worker_session(
    real_services, django_db_setup, django_db_blocker, simulator_session, tmp_path_factory
) -> Iterator[Worker]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        DEERAPI_BASE_URL=simulator_session.url,
        DEERAPI_KEY=settings.DEERAPI_KEY,
        DEERWEB_SWEEP_INTERVAL="1",
        DEERWEB_SWEEP_GRACE="3",
        # Short timeouts make leases short, so crash-recovery tests finish in seconds.
        DEERAPI_CONNECT_TIMEOUT="1",
        DEERAPI_READ_TIMEOUT="3",
        DEERWEB_STORE_TIME_LIMIT="20",
        DEERWEB_OUTPUT_MAX_BYTES="2000000",
        DEERWEB_WEBHOOK_RETRY_DELAY="0.5",
        DEERWEB_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    # Started by the first test that asks for `worker` (`s3_worker` starts it with another environment).
    worker = Worker(env, tmp_path_factory.mktemp("worker") / "worker.log")
    yield worker
    worker.stop()


@pytest.fixture
def worker(worker_session: Worker, simulator: Simulator, transactional_db) -> Worker:
    """A running worker; started if no earlier test did, restarted if one stopped it."""
    if worker_session.process is None or worker_session.process.poll() is not None:
        worker_session.start()
    return worker_session


@pytest.fixture
def web_loop() -> Iterator[LoopThread]:
    """An event loop in a thread of its own, as a web process's, where coroutines wait."""
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture
def wait() -> Callable[..., Prediction]:
    return wait_for


@pytest.fixture
def public_uploads(settings, monkeypatch) -> str:
    """DeerWeb with a public address, sending every upload to DeerAPI by its public URL (none inline)."""
    from predictions import uploads

    settings.PUBLIC_URL = "https://deerweb.example.com"
    monkeypatch.setattr(uploads, "INLINE_MAX_BYTES", 0)
    return settings.PUBLIC_URL


# --- Object storage ----------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_session() -> Iterator[Bucket]:
    """An S3 API server of this test process's own (moto's standalone one, on a free loopback
    port) with the test bucket; boto3's credential variables set for DeerWeb in this process."""
    port = free_port()
    process = s3_server(port)
    bucket = Bucket(f"http://127.0.0.1:{port}")
    bucket.create()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in S3_CREDENTIALS.items():
            patch.setenv(name, value)
        yield bucket
    process.terminate()
    process.wait(10)


@pytest.fixture
def s3(s3_session: Bucket, settings) -> Bucket:
    """DeerWeb in this process storing its files in the test bucket, emptied."""
    s3_session.empty()
    s3_session.use(settings)
    return s3_session


@pytest.fixture
def s3_worker(worker_session: Worker, s3: Bucket, simulator: Simulator, transactional_db, tmp_path) -> Iterator[Worker]:
    """A worker as on another host: storing in the test bucket (its DEERWEB_S3_* environment), with
    a disk of its own. The plain worker comes back when a later test asks for `worker`."""
    plain = worker_session.env
    worker_session.stop()
    worker_session.env = {**plain, **s3.env, "DEERWEB_TEST_MEDIA_ROOT": str(tmp_path / "worker-disk")}
    try:
        worker_session.start()
        yield worker_session
    finally:
        worker_session.stop()
        worker_session.env = plain


@pytest.fixture
def s3_hosts(
    worker_session: Worker, s3: Bucket, simulator: Simulator, transactional_db, tmp_path
) -> Iterator[list[Worker]]:
    """Three workers as on three hosts (`docker compose up --scale worker=3`): each with a disk of
    its own, sharing only the database, the broker and the test bucket. Each embeds beat (the world's
    Worker does), where compose runs one beat service: the sweeps are claims, safe to run side by side.
    The plain worker comes back when a later test asks for `worker`."""
    worker_session.stop()
    hosts = []
    for number in (1, 2, 3):
        disk = tmp_path / f"host-{number}"
        env = {
            **worker_session.env,
            **s3.env,
            "DEERWEB_TEST_DIR": str(disk),
            "DEERWEB_TEST_MEDIA_ROOT": str(disk / "media"),
        }
        hosts.append(Worker(env, disk / "worker.log", name=f"host-{number}"))
    try:
        workers_start(hosts)
        yield hosts
    finally:
        workers_stop(hosts)


# --- Webhooks ----------------------------------------------------------------------


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """An HTTP server on 127.0.0.1 (in DEERWEB_WEBHOOK_ALLOWED_HOSTS under tests) that keeps the webhooks it gets."""
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


# --- Chromium ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """The session's one Chromium (Playwright's sync API allows one per thread)."""
    with launch() as chromium:
        yield chromium


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """A tab at the live server, in a browser profile of its own."""
    context = new_context(browser, live_server.url)
    yield context.new_page()
    context.close()


# --- The two configurations ---------------------------------------------------------

# Fixtures through which a test reaches the database: such a test is marked `database`.
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
    "real_services",
}


def configuration() -> dict[str, str]:
    """This run's database vendor and broker transport, e.g. {"database": "sqlite", "broker": "filesystem"}."""
    vendor = "sqlite" if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else "postgresql"
    return {"database": vendor, "broker": settings.CELERY_BROKER_URL.split("://")[0]}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that use the database `database` (so `-m database` leaves out pure unit tests),
    and deselect the tests marked for a database or broker this run does not use."""
    current = configuration()
    kept, deselected = [], []
    for item in items:
        if item.get_closest_marker("django_db") or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database)
        elsewhere = (
            (item.get_closest_marker("postgresql") and current["database"] != "postgresql")
            or (item.get_closest_marker("redis") and current["broker"] != "redis")
            or (item.get_closest_marker("priorities") and current["broker"] not in ("redis", "amqp"))
        )
        (deselected if elsewhere else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """With DEERWEB_REQUIRE_SERVICES=1 (CI) nothing may skip: a skip is reported as a failure."""
    report = yield
    if REQUIRE_SERVICES and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, and nothing may skip with DEERWEB_REQUIRE_SERVICES=1: {reason}"
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """This test process's media, notifier and broker folders (tests/settings.py) go with it: each xdist
    process's, and the main process's, which made its broker folders when it read the settings."""
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    shutil.rmtree(settings.NOTIFY_DIR, ignore_errors=True)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        shutil.rmtree(settings.BROKER_DIR, ignore_errors=True)


# --- The flush between transactional tests -------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def flush_waits_out_a_deadlock() -> Iterator[None]:
    """The flush after a transactional test empties every table while a worker task (the sweep,
    say) or the live server's last page request may still be reading two of them: PostgreSQL
    then breaks the deadlock by failing the flush, and SQLite reports the database locked.
    Try the flush again, a moment later, a few times; anything else still fails the test."""
    from django.core.management.base import CommandError
    from django.db import OperationalError
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self: TransactionTestCase) -> None:
        for attempt in range(4):
            try:
                return original(self)
            except (OperationalError, CommandError) as exc:
                cause = f"{exc} {exc.__cause__}"
                if attempt == 3 or not ("deadlock detected" in cause or "database is locked" in cause):
                    raise
                time.sleep(0.5)

    TransactionTestCase._fixture_teardown = teardown  # type: ignore[method-assign]
    yield
    TransactionTestCase._fixture_teardown = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def no_prediction_seen_running() -> Iterator[None]:
    """What this process learned of models with no run yet (predictions.pipeline), and whether
    DeerAPI calls back (predictions.hints), stays in its test."""
    from predictions import hints, pipeline

    pipeline._still_running_at.clear()
    hints.hints_forget()
    yield
    pipeline._still_running_at.clear()
    hints.hints_forget()


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in the default language: a test client request in Chinese leaves
    Chinese active in the thread, and a prediction created next would remember it."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def web_started_long_ago(monkeypatch: pytest.MonkeyPatch) -> None:
    """Health checks judge the worker as a long-running web process would, past its start period
    (a test of the start period moves `_started` itself; some tests freeze the clock in the past)."""
    from datetime import UTC, datetime

    from ops import health

    monkeypatch.setattr(health, "_started", datetime(2000, 1, 1, tzinfo=UTC))
