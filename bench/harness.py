"""What the benchmarks share: the machine, a dedicated database, broker queues, child processes
(DeerWeb's as the Procfile starts them), memory sampling, percentiles and plain-text tables.
Standard library, psycopg, redis and kombu only.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/deerweb_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# A benchmark database is dropped at the start of every run: refuse any name without this.
SAFE_NAME_PART = "bench"


class BenchError(RuntimeError):
    """The benchmark could not run (a service is missing, a process died); no figures."""


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database the benchmark drops, creates and migrates; its name must contain "
        f"'{SAFE_NAME_PART}' (default: $BENCH_DATABASE_URL or %(default)s)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        help="Redis database for the Celery queues; only the run's own queues are touched "
        "(default: $BENCH_REDIS_URL or %(default)s)",
    )


# --- The machine ---------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


SPEED_LOOP = 3_000_000


def python_speed_ms() -> float:
    """Milliseconds this machine takes for a fixed pure-Python loop (SPEED_LOOP multiply-adds),
    best of three: a virtual machine's speed drifts from day to day, and figures taken on
    different days compare only at the same speed."""

    def once() -> float:
        started, total = time.perf_counter(), 0
        for number in range(SPEED_LOOP):
            total += number * number
        return time.perf_counter() - started

    return min(once() for _ in range(3)) * 1000


def machine_lines(database_url: str, redis_url: str) -> list[str]:
    """What the figures ran on, including the versions of the services and the load at start."""
    with psycopg.connect(maintenance_url(database_url), autocommit=True) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url(redis_url).info("server").get("redis_version", "?")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"Machine: {os.cpu_count()} CPUs ({_cpu_model()}), {_ram_gib():.1f} GiB RAM, Linux {platform.release()}",
        f"Software: Python {platform.python_version()}, PostgreSQL {postgres}, Redis {redis_version}",
        f"Load average at start (1, 5, 15 min): {load}",
        f"Speed: {SPEED_LOOP:,} multiply-adds in a Python loop take {python_speed_ms():.0f} ms (best of 3; "
        "the same code's figures scale with it)",
    ]


def command_line() -> str:
    return "python -m bench " + shlex.join(sys.argv[1:])


# --- PostgreSQL and Redis ----------------------------------------------------------------------


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    """The same server, database `postgres`: where CREATE and DROP DATABASE are run."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def database_recreate(url: str) -> None:
    """Drop (disconnecting anyone left) and create the benchmark's own database."""
    name = database_name(url)
    if SAFE_NAME_PART not in name:
        raise BenchError(f"refusing to drop database {name!r}: a benchmark database's name contains {SAFE_NAME_PART!r}")
    try:
        with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL at {urlsplit(url).netloc} did not answer: {exc}") from exc


def database_drop(url: str) -> None:
    name = database_name(url)
    if SAFE_NAME_PART not in name:
        raise BenchError(f"refusing to drop database {name!r}")
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def queue_name(database_url: str, role: str) -> str:
    """A Celery queue of this run: named after its database, so runs never share one."""
    return f"bench.{database_name(database_url)}.{role}"


def redis_counter(redis_url: str, key: str) -> int:
    """The integer at `key` (0 when missing)."""
    value = redis.Redis.from_url(redis_url).get(key)
    return int(value) if value else 0


def redis_queues_clear(redis_url: str, queues: Sequence[str]) -> None:
    """Delete the run's queues (every priority list of each) and nothing else."""
    try:
        client = redis.Redis.from_url(redis_url)
        for queue in queues:
            keys = [queue, *client.scan_iter(match=f"{queue}\x06\x16*")]
            client.delete(*keys)
    except redis.RedisError as exc:
        raise BenchError(f"Redis at {redis_url} did not answer: {exc}") from exc


def broker_queue_lengths(broker_url: str, queues: Sequence[str]) -> dict[str, int]:
    """Messages waiting in each queue: on Redis, its lists (one per priority) plus the messages a
    worker took and has not acknowledged yet (countdowns it holds); on RabbitMQ, its ready messages."""
    if broker_url.startswith(("amqp://", "amqps://")):
        return {queue: _amqp_ready(broker_url, queue) for queue in queues}
    try:
        client = redis.Redis.from_url(broker_url)
        lengths = {}
        for queue in queues:
            waiting = sum(client.llen(key) for key in [queue, *client.scan_iter(match=f"{queue}\x06\x16*")])
            # kombu keeps a taken message in the hash `unacked` with its routing key until acknowledged.
            held = sum(1 for value in client.hvals("unacked") if f'"{queue}"'.encode() in value)
            lengths[queue] = waiting + held
        return lengths
    except redis.RedisError as exc:
        raise BenchError(f"Redis at {broker_url} did not answer: {exc}") from exc


def _amqp_ready(broker_url: str, queue: str) -> int:
    from amqp.exceptions import NotFound
    from kombu import Connection

    with Connection(broker_url, connect_timeout=10) as conn:
        try:
            return int(conn.default_channel.queue_declare(queue, passive=True).message_count)
        except NotFound:
            return 0  # never declared: nothing was ever sent to it


def broker_queues_clear(broker_url: str, queues: Sequence[str]) -> None:
    """Empty the run's queues (on Redis, delete them) and touch nothing else."""
    if not broker_url.startswith(("amqp://", "amqps://")):
        redis_queues_clear(broker_url, queues)
        return
    from amqp.exceptions import NotFound
    from kombu import Connection

    try:
        with Connection(broker_url, connect_timeout=10) as conn:
            for queue in queues:
                channel = conn.channel()
                try:
                    channel.queue_purge(queue)
                except NotFound:
                    pass
                finally:
                    channel.close()
    except OSError as exc:
        raise BenchError(f"RabbitMQ at {broker_url} did not answer: {exc}") from exc


# --- Child processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Child:
    """A process in its own session, its output in a log file; stopped as a group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, ready: str, timeout: float = 60.0) -> Child:
        """Start, and wait until the log shows `ready`."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited at start:\n{self.tail()}")
            if ready in self.log():
                return self
            time.sleep(0.1)
        self.stop()
        raise BenchError(f"{self.name} did not start in {timeout:.0f}s:\n{self.tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the group (a Celery warm shutdown), SIGKILL it if that takes too long."""
        if not self.alive():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, chars: int = 3000) -> str:
        return self.log()[-chars:]


_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def simulator_timings(run_seconds: float) -> tuple[float, float]:
    """Starting and processing seconds summing to the run time. Starting is never 0: the
    replicate client takes a create answered `processing` as already finished."""
    starting = min(1.0, run_seconds / 4)
    return starting, run_seconds - starting


def simulator_argv(port: int, key: str, run_seconds: float, logs: str, *options: str) -> list[str]:
    """`python -m deerapi.simulator` on `port`, its runs `run_seconds` long, with `options` more."""
    starting, processing = simulator_timings(run_seconds)
    return [
        sys.executable,
        "-m",
        "deerapi.simulator",
        "--port",
        str(port),
        "--key",
        key,
        "--starting-seconds",
        str(starting),
        "--processing-seconds",
        str(processing),
        "--logs",
        logs,
        *options,
    ]


def procfile_argv(role: str, env: dict[str, str]) -> list[str]:
    """The Procfile's command for `role`, its `${NAME:-default}`s read from `env`, as a list.

    Its `.venv/bin/<tool>` runs as `python -m <tool>` of this interpreter, so a benchmark run from
    any virtualenv starts DeerWeb's processes exactly as the Procfile (and so a deploy) does.
    """
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == role:
            break
    else:
        raise BenchError(f"the Procfile has no {role!r} process")

    def expand(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        return env.get(name) or match.group(2) or ""

    argv = shlex.split(_VARIABLE.sub(expand, command))
    if argv[0].startswith(".venv/bin/"):
        argv = [sys.executable, "-m", argv[0].removeprefix(".venv/bin/"), *argv[1:]]
    return argv


@dataclass(frozen=True)
class ProcessInfo:
    ppid: int
    cpu: float  # seconds of user + system time so far
    title: str  # the process title (first word of its command line; PostgreSQL puts the database there)


def processes() -> dict[int, ProcessInfo]:
    """Every process on the machine, read from /proc in one pass."""
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            # The command name is in parentheses and may hold spaces: the fields follow the last ')'.
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            title = Path(entry.path, "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
        except OSError:
            continue  # it just ended
        table[int(entry.name)] = ProcessInfo(int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, title)
    return table


def descendants(table: dict[int, ProcessInfo], pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for child, info in table.items():
        children.setdefault(info.ppid, []).append(child)
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def tree_cpu_seconds(table: dict[int, ProcessInfo], pid: int) -> float:
    """CPU time used so far by a process and its live descendants."""
    return sum(table[member].cpu for member in descendants(table, pid) if member in table)


def tree_settled(pid: int, timeout: float = 60.0) -> float:
    """Wait until a process and those below it have stopped working (under 10 ms of CPU in each of
    two quarter seconds): started, or every request reached its wait. The seconds it took."""
    start = time.monotonic()
    quiet, before = 0, tree_cpu_seconds(processes(), pid)
    while quiet < 2 and time.monotonic() - start < timeout:
        time.sleep(0.25)
        now = tree_cpu_seconds(processes(), pid)
        quiet = quiet + 1 if now - before < 0.01 else 0
        before = now
    return time.monotonic() - start


def _kib(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass  # it just ended
    return 0


def memory_bytes(pids: Sequence[int]) -> tuple[int, int]:
    """(RSS, PSS) summed over processes.

    RSS counts a page shared by several processes (a prefork pool's copy-on-write memory) in each
    of them; PSS divides it among them, so its sum is what the processes really hold.
    """
    rss = sum(_kib(f"/proc/{pid}/status", "VmRSS:") for pid in pids)
    pss = sum(_kib(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in pids)
    return rss * 1024, pss * 1024


def postgres_cpu_seconds(table: dict[int, ProcessInfo], database: str) -> dict[int, float]:
    """CPU time so far of each PostgreSQL backend connected to `database`, by pid."""
    needle = f" {database} "
    return {pid: info.cpu for pid, info in table.items() if info.title.startswith("postgres:") and needle in info.title}


def machine_cpu_times() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot; the difference of two readings is a load."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


class Sampler(threading.Thread):
    """Calls `sample()` every `interval` seconds until stopped; keeps the first error."""

    def __init__(self, sample: Callable[[], None], interval: float) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self._sample = sample
        self._interval = interval
        self._stop_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        while not self._stop_event.is_set():
            started = time.monotonic()
            try:
                self._sample()
            except Exception as exc:  # reported by the caller after `stop()`
                self.error = self.error or exc
            self._stop_event.wait(max(0.0, self._interval - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop_event.set()
        if self.ident is not None:  # started
            self.join(10)


# --- Figures ------------------------------------------------------------------------------


def run_threads(count: int, target: Callable[[int], None]) -> list[BaseException]:
    """Run `target(0)` … `target(count - 1)` in threads released together; the errors they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def body(index: int) -> None:
        barrier.wait()
        try:
            target(index)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,), name=f"bench-thread-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), interpolated between the nearest ranks; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with padded columns: readable in a terminal and pasteable in the README."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


# --- DeerWeb inside the benchmark's own process (pages, submit) --------------------------------


def django_start(database_url: str, redis_url: str, *, queue: str, media_root: Path) -> None:
    """Set DeerWeb up in this process on the benchmark's database and migrate it.

    Production settings (bench.settings: DEBUG off, manifest static files, collected here, Celery
    queue `queue`).
    A DeerAPI key is set so pages look as in production (no sandbox banner); nothing here calls
    DeerAPI. Logs at WARNING, so a console line per request or prediction is not what is measured.
    Django is imported here, not at the top: the rest of the harness runs without it.
    """
    import secrets

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": redis_url,
            "DEERWEB_BENCH_QUEUE": queue,
            "DEERAPI_KEY": "bench-deerapi-key-never-sent",
            "DEERAPI_BASE_URL": "http://127.0.0.1:9",
            "DEERAPI_QUERY_URL": "http://127.0.0.1:9",
            "MEDIA_ROOT": str(media_root),
            "DEERWEB_LOG_LEVEL": "WARNING",
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    # As a deploy does: the manifest static files storage needs collected files.
    call_command("collectstatic", interactive=False, verbosity=0)


def deerweb_environment(
    database_url: str, broker_url: str, *, queue: str, simulator_url: str, key: str, media_root: Path
) -> dict[str, str]:
    """DeerWeb's settings for a benchmark's own process and the workers it starts: production
    settings (bench.settings) on the run's database and queue, DeerAPI at the simulator."""
    import secrets

    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "DEERWEB_BENCH_QUEUE": queue,
        "DEERAPI_KEY": key,
        "DEERAPI_BASE_URL": simulator_url,
        "DEERAPI_QUERY_URL": simulator_url,
        "MEDIA_ROOT": str(media_root),
        "PYTHONUNBUFFERED": "1",
    }


def members_create(count: int) -> list[Any]:
    """`count` members (bench-member-01 …) in DeerWeb's database, set up in this process."""
    from predictions.models import User

    members = []
    for number in range(1, count + 1):
        member = User(username=f"bench-member-{number:02d}")
        member.set_unusable_password()
        members.append(member)
    User.objects.bulk_create(members)
    return list(User.objects.filter(username__startswith="bench-member-").order_by("username"))


# --- End of DeerWeb inside the benchmark's own process -------------------------------------------
