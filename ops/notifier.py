"""Wake the web requests waiting on a prediction when it changes, without polling the database.

Two sides:
- `notify(prediction_id)`, in whichever process changed the prediction (a worker's task, a web
  request): sent once the transaction that changed it commits, never for a rolled-back change.
- `wait_for_change(prediction_id, timeout)` and `wait_until(condition, prediction_id, timeout)`,
  in an async view: each web process (each event loop) keeps ONE subscription, read by one task,
  which sets the asyncio events of the waiters on that id. A waiter costs an event and a set
  entry; it holds no thread and no database connection.

The backend is `settings.NOTIFIER` (DEERWEB_NOTIFIER, settled in settings.py):
- `redis`: PUBLISH on the broker's Redis; channel `deerweb:<database number>:prediction-changed`
  (pub/sub ignores Redis database numbers, so the number is part of the name, as it separates
  the Celery queues of deployments and test processes sharing one server);
- `postgresql`: `pg_notify` in the changing transaction (PostgreSQL delivers it on commit, drops it
  on rollback) and `LISTEN` on a psycopg async connection; channels are per database;
- `local`: one host (SQLite and the filesystem broker, `make run`): each listening event loop binds
  a Unix datagram socket in `settings.NOTIFY_DIR`; `notify` sends the id to every socket there
  and removes the files no process listens on any more.

A subscription that drops is made again (backing off up to RECONNECT_MAX seconds); each time it is
(re)made every waiter of that loop is woken, since a notification may have been missed meanwhile.
So a wake means "may have changed": read the prediction again. A waiter never waits past its
timeout, whether or not the backend answers.

How a view waits (e.g. Replicate's `Prefer: wait=N`), holding no database connection meanwhile:

    from ops import notifier

    async def prediction_detail(request, pk):
        user = await request.auser()
        finished = notifier.released(lambda: Prediction.objects.filter(pk=pk, status__in=TERMINAL).exists())
        await notifier.wait_until(finished, pk, timeout=seconds)   # True: finished; False: timed out
        prediction = await notifier.released(lambda: Prediction.objects.get(pk=pk, owner=user))()
        ...

`released(read)` runs `read` in a shared executor thread and then closes that thread's
connection, which with the PostgreSQL pool (settings.py) returns it to the pool, and lets the
request's own sync thread go: between two reads the request holds neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from asgiref.sync import SyncToAsync, sync_to_async
from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

# PostgreSQL's channel (per database), and the suffix of Redis's.
CHANNEL = "deerweb_prediction_changed"
# A subscription that sees nothing for this long checks that its connection still answers.
HEARTBEAT = 30.0
# Seconds between attempts to subscribe again: doubling from the first to the last.
RECONNECT_MIN = 0.1
RECONNECT_MAX = 2.0
# While a backend stays down, one log line per this many failed attempts (about a minute).
FAILURES_PER_LOG_LINE = 30
# How long `notify` waits for a local listener whose queue is full (Linux queues 10 datagrams).
LOCAL_SEND_TIMEOUT = 0.25
# A Unix socket's path is at most this long (sun_path, Linux).
UNIX_PATH_MAX = 107


# --- Sending ------------------------------------------------------------------------------


def notify(prediction_id: int) -> None:
    """Tell every waiting web process that the prediction changed, once the current transaction
    commits (at once outside one; never if it rolls back). Redis and socket errors are logged, not
    raised: a missed notification only makes a waiter wait until its timeout. On PostgreSQL the
    notification is a statement of the transaction itself, failing with it."""
    backend = _backend()
    if isinstance(backend, PostgresBackend):
        backend.send(prediction_id)  # in the transaction: PostgreSQL delivers it on commit
    elif connection.in_atomic_block:
        transaction.on_commit(lambda: backend.send(prediction_id))
    else:
        backend.send(prediction_id)


class Backend(Protocol):
    def send(self, prediction_id: int) -> None:
        """Send the notification now (after commit; PostgreSQL: inside the transaction)."""

    async def listen(self, subscribed: Callable[[], None], dispatch: Callable[[int], None]) -> None:
        """Subscribe, call `subscribed()` once listening, then `dispatch(id)` for each notification,
        until the connection fails (raise) or the task is cancelled."""


def _backend() -> Backend:
    name = settings.NOTIFIER
    if name == "redis":
        return RedisBackend(settings.CELERY_BROKER_URL)
    if name == "postgresql":
        return PostgresBackend()
    return LocalBackend(Path(settings.NOTIFY_DIR))


def _prediction_id(payload: bytes | str) -> int | None:
    try:
        return int(payload)
    except ValueError:
        logger.warning("notifier: ignored a notification that is not a prediction id: %r", payload[:40])
        return None


class RedisBackend:
    def __init__(self, url: str) -> None:
        self.url = url
        database = urlsplit(url).path.strip("/") or "0"
        self.channel = f"deerweb:{database}:prediction-changed"

    def send(self, prediction_id: int) -> None:
        import redis

        try:
            _redis_client(self.url).publish(self.channel, str(prediction_id))
        except redis.RedisError as exc:
            logger.warning("notifier: could not publish prediction %s: %s", prediction_id, exc)

    async def listen(self, subscribed: Callable[[], None], dispatch: Callable[[int], None]) -> None:
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No retries inside redis-py: a dropped connection raises here, and the hub subscribes
        # again and wakes its waiters (redis-py would re-subscribe silently).
        client = redis.asyncio.Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=5,
            client_name=f"deerweb-notifier-{os.getpid()}",
        )
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            pinged = False
            while True:
                _raise_if_cancelled()
                message = await pubsub.get_message(timeout=HEARTBEAT)
                _raise_if_cancelled()
                if message is None:
                    if pinged:
                        raise ConnectionError(f"Redis did not answer a ping in {HEARTBEAT:.0f} s")
                    await pubsub.ping()
                    pinged = True
                    continue
                pinged = False
                if message["type"] == "subscribe":
                    subscribed()
                elif message["type"] == "message" and (pk := _prediction_id(message["data"])) is not None:
                    dispatch(pk)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()


def _raise_if_cancelled() -> None:
    """Cancel the listener if it was asked to stop: redis-py's asyncio client sometimes swallows a
    cancellation that arrives while it connects, and the listener would then read on."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


_redis_clients: dict[str, Any] = {}


def _redis_client(url: str) -> Any:
    """One client (a thread-safe connection pool) per URL and process; redis-py starts a new pool
    in a forked process."""
    import redis

    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients.setdefault(
            url, redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)
        )
    return client


class PostgresBackend:
    def send(self, prediction_id: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(prediction_id)])

    async def listen(self, subscribed: Callable[[], None], dispatch: Callable[[int], None]) -> None:
        import psycopg

        params = _listen_params()
        async with await psycopg.AsyncConnection.connect(**params) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            subscribed()
            while True:
                async for note in conn.notifies(timeout=HEARTBEAT):
                    if (pk := _prediction_id(note.payload)) is not None:
                        dispatch(pk)
                async with asyncio.timeout(HEARTBEAT):  # still connected?
                    await conn.execute("SELECT 1")


def _listen_params() -> dict[str, Any]:
    """Django's connection parameters for the default database (the test database under test),
    for a psycopg connection of the listener's own, outside the pool."""
    params = connection.get_connection_params()
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    params.setdefault("application_name", "deerweb-notifier")
    params.setdefault("connect_timeout", 5)
    return {**params, "autocommit": True}


_local_names = itertools.count(1)


class LocalBackend:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, prediction_id: int) -> None:
        try:
            paths = [entry.path for entry in os.scandir(self.folder) if entry.name.endswith(".sock")]
        except FileNotFoundError:
            return  # no web process waited yet
        data = str(prediction_id).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.settimeout(LOCAL_SEND_TIMEOUT)
            for path in paths:
                try:
                    sock.sendto(data, path)
                except (ConnectionRefusedError, FileNotFoundError):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)  # its process ended without removing it
                except OSError as exc:  # a listener not reading (timeout), or worse
                    logger.warning("notifier: could not notify %s of prediction %s: %s", path, prediction_id, exc)

    async def listen(self, subscribed: Callable[[], None], dispatch: Callable[[int], None]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{os.getpid()}-{next(_local_names)}.sock"
        if len(os.fsencode(path)) > UNIX_PATH_MAX:
            raise OSError(errno.ENAMETOOLONG, f"a Unix socket's path is at most {UNIX_PATH_MAX} bytes", str(path))
        loop = asyncio.get_running_loop()
        failed: asyncio.Future[None] = loop.create_future()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)

        def readable() -> None:
            while True:
                try:
                    data = sock.recv(64)
                except BlockingIOError:
                    return
                except OSError as exc:
                    if not failed.done():
                        failed.set_exception(exc)
                    return
                if (pk := _prediction_id(data)) is not None:
                    dispatch(pk)

        try:
            path.unlink(missing_ok=True)
            sock.bind(str(path))
            loop.add_reader(sock.fileno(), readable)
            subscribed()
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(HEARTBEAT):
                        await asyncio.shield(failed)
                if not path.exists():  # removed (make clean): senders no longer find this socket
                    raise FileNotFoundError(errno.ENOENT, "the notifier's socket was removed", str(path))
        finally:
            loop.remove_reader(sock.fileno())
            sock.close()
            path.unlink(missing_ok=True)


# --- Waiting ------------------------------------------------------------------------------


class _Watch:
    """One waiter's registration: its event is set by each notification for its id."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def changed(self, timeout: float) -> bool:
        """True once a notification came since the last call (at once if one came meanwhile);
        False after `timeout` seconds without."""
        if not self.event.is_set():
            if timeout <= 0:
                return False
            try:
                async with asyncio.timeout(timeout):
                    await self.event.wait()
            except TimeoutError:
                return False
        self.event.clear()
        return True


class _Hub:
    """The waiters of one event loop and the one subscription, read by one task, that wakes them."""

    def __init__(self, backend: Backend) -> None:
        self.watches: dict[int, set[_Watch]] = {}
        self.ready = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run(backend), name="deerweb-notifier")

    async def _run(self, backend: Backend) -> None:
        delay, failures = RECONNECT_MIN, 0
        while True:
            try:
                await backend.listen(self._subscribed, self._dispatch)
            except Exception as exc:
                if self.ready.is_set():  # it was working: try again soon
                    delay, failures = RECONNECT_MIN, 0
                failures += 1
                if failures % FAILURES_PER_LOG_LINE == 1:  # the first of a series, then now and then
                    logger.warning("notifier: %s subscription failed %d time(s): %s", settings.NOTIFIER, failures, exc)
            finally:
                self.ready.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)

    def _subscribed(self) -> None:
        self.ready.set()
        for watches in self.watches.values():  # anything may have changed while unsubscribed
            for watch in watches:
                watch.event.set()

    def _dispatch(self, prediction_id: int) -> None:
        for watch in self.watches.get(prediction_id, ()):
            watch.event.set()

    async def until_ready(self, timeout: float) -> bool:
        if self.ready.is_set():
            return True
        try:
            async with asyncio.timeout(max(0.0, timeout)):
                await self.ready.wait()
        except TimeoutError:
            return False
        return True

    @contextlib.contextmanager
    def watch(self, prediction_id: int) -> Iterator[_Watch]:
        watch = _Watch()
        self.watches.setdefault(prediction_id, set()).add(watch)
        try:
            yield watch
        finally:
            watches = self.watches[prediction_id]
            watches.discard(watch)
            if not watches:
                del self.watches[prediction_id]


_hubs: dict[asyncio.AbstractEventLoop, _Hub] = {}


def _hub() -> _Hub:
    """This event loop's hub, subscribing on first use."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.task.done():
        for closed in [other for other in _hubs if other.is_closed()]:
            del _hubs[closed]
        hub = _hubs[loop] = _Hub(_backend())
    return hub


async def subscription_ready(timeout: float) -> bool:
    """True once this event loop's subscription is made (it is made on first use: at once if it
    was), False if it is not within `timeout` seconds."""
    return await _hub().until_ready(timeout)


async def wait_for_change(prediction_id: int, timeout: float) -> bool:
    """True as soon as a notification for `prediction_id` arrives (or the subscription is made
    again after a drop: something may have changed), False after `timeout` seconds.

    It only hears what is notified after it subscribed: to wait for a state, use `wait_until`,
    which reads the state after subscribing.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    hub = _hub()
    if not await hub.until_ready(deadline - loop.time()):
        return False
    with hub.watch(prediction_id) as watch:
        return await watch.changed(deadline - loop.time())


def watching() -> int:
    """How many waits this event loop holds now (all its requests' together)."""
    hub = _hubs.get(asyncio.get_running_loop())
    return 0 if hub is None else sum(len(watches) for watches in hub.watches.values())


async def wait_until(condition: Callable[[], Awaitable[bool]], prediction_id: int, timeout: float) -> bool:
    """Await `condition()` (e.g. a `released` read) now and again each time `prediction_id`
    changes, until it is true (True) or `timeout` seconds have passed (False).

    The waiter is registered before the first read, so a change between a read and the wait that
    follows it is not missed; until the subscription is made the reads follow its making.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    with _hub().watch(prediction_id) as watch:
        while True:
            if await condition():
                return True
            if not await watch.changed(deadline - loop.time()):
                return False


def released(read: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    """`read` as an async callable that leaves neither a database connection nor a thread held.

    Inside an ASGI request, `read` runs in one of the event loop's few shared executor threads
    (not a thread made for the request: five hundred requests woken at once queue for those
    few instead of starting five hundred threads), the request's own idle sync thread is let go
    (`_request_thread_let_go`), and the connection `read` used is closed (with the PostgreSQL
    pool: given back). Elsewhere (WSGI, tests calling through `async_to_sync`) it runs in the
    calling sync thread, which sees that thread's transaction; there the connection is closed
    unless a transaction (`atomic`) is open: do not wait inside one."""

    def run() -> T:
        try:
            return read()
        finally:
            _connection_close()

    in_caller_thread = sync_to_async(run)
    in_shared_thread = sync_to_async(run, thread_sensitive=False)

    async def call() -> T:
        if SyncToAsync.thread_sensitive_context.get(None) is None:
            return await in_caller_thread()
        await _request_thread_let_go()
        return await in_shared_thread()

    return call


def _connection_close() -> None:
    if not connection.in_atomic_block:
        connection.close()


_connection_close_in_thread = sync_to_async(_connection_close)


async def _request_thread_let_go() -> None:
    """Let the thread that Django's ASGI handler keeps for this request's sync code end, after
    closing the database connection it holds (in that thread).

    Under ASGI, each request runs its thread-sensitive sync code (sync middleware methods,
    `sync_to_async` calls) in a thread of its own that asgiref keeps until the response is sent
    (`ThreadSensitiveContext`); a request that then waits a minute would keep it parked all that
    time. This drops the request's executor so its idle thread ends; the request's next sync call
    starts a new one, which the context ends as usual. Nothing outside a request's context, or
    once the thread has ended.
    """
    context = SyncToAsync.thread_sensitive_context.get(None)
    if context is None or context not in SyncToAsync.context_to_thread_executor:
        return
    await _connection_close_in_thread()
    executor = SyncToAsync.context_to_thread_executor.pop(context, None)
    if executor is not None:
        executor.shutdown(wait=False)
