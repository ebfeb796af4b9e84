"""Settings for the test suite: deerweb.settings with safe test defaults.

Two configurations, chosen by the environment, each with a real worker process:
- PostgreSQL + Redis (production's): DATABASE_URL=postgres://… and
  CELERY_BROKER_URL=redis://…; also picked when they answer on 127.0.0.1 and
  neither variable is set. CELERY_BROKER_URL=amqp://… runs the same on RabbitMQ.
- SQLite + the filesystem broker (`make run`'s): DATABASE_URL=sqlite:///…
  and CELERY_BROKER_URL=filesystem://. The test database is a file beside the
  named one, so the worker process can open it too.

Each test process (each pytest-xdist worker) has its own test database, broker
(a Redis database: the URL's number plus the worker's index; on RabbitMQ a queue
in the URL's virtual host named after the run's database and the process:
`deerweb-test.<database>.<process>`), broker folders and media folder, so
processes never see each other's tasks or files. Without a broker the in-memory
one is used and the tests that need a worker skip, or fail when
DEERWEB_REQUIRE_SERVICES=1 (as in CI).
"""

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _worker_index(worker: str) -> int:
    """gw3 -> 3; the main process (no xdist) is 0."""
    return int(worker[2:]) if worker.startswith("gw") else 0


# "gw0", "gw1", … under pytest-xdist (inherited by the worker processes tests start); "main" without it.
TEST_PROCESS = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _redis_for_process(url: str) -> str:
    """The Redis database of this test process: the URL's number plus the xdist worker's index."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    number = base + _worker_index(TEST_PROCESS)
    if number > 15:
        raise ValueError(f"CELERY_BROKER_URL: test process {TEST_PROCESS} would need Redis database {number}")
    return urlunsplit(parts._replace(path=f"/{number}"))


def _queue_for_process() -> str:
    """The RabbitMQ queue of this test process: runs on other databases (CI's, a developer's) may
    share the virtual host, as may the other processes of this run."""
    database = urlsplit(os.environ.get("DATABASE_URL", "")).path.strip("/") or "deerweb"
    return f"deerweb-test.{database}.{TEST_PROCESS}"


os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("DEERWEB_LOG_LEVEL", "WARNING")
if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/deerweb"
# Chosen here, not given: an xdist process chooses again rather than take the main process's choice.
_chosen = os.environ.get("DEERWEB_TEST_BROKER_CHOSEN") == "redis" and os.environ.get("DEERWEB_TEST_BROKER_OF") not in (
    None,
    TEST_PROCESS,
)
if "CELERY_BROKER_URL" not in os.environ or _chosen:
    # Each test process takes the database after the first (`_redis_for_process`): under `-n N`
    # they take the last N of Redis's 16, not 15 and past it.
    first = max(0, 15 - int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0))
    found = _chosen or _answers("127.0.0.1", 6379)
    os.environ["CELERY_BROKER_URL"] = f"redis://127.0.0.1:6379/{first}" if found else "memory://"
    os.environ["DEERWEB_TEST_BROKER_CHOSEN"] = "redis" if found else "memory"
if os.environ["CELERY_BROKER_URL"].startswith("redis://") and os.environ.get("DEERWEB_TEST_BROKER_OF") != TEST_PROCESS:
    # Worked out in each test process (xdist's inherit the main one's environment, whose index
    # is 0); the worker processes a test process starts inherit its URL, or are given another.
    os.environ["CELERY_BROKER_URL"] = _redis_for_process(os.environ["CELERY_BROKER_URL"])
    os.environ["DEERWEB_TEST_BROKER_OF"] = TEST_PROCESS
if os.environ["CELERY_BROKER_URL"].startswith(("amqp://", "amqps://")) and (
    os.environ.get("DEERWEB_TEST_BROKER_OF") != TEST_PROCESS
):
    # As above: a worker process is given the test database's URL, so it could not name the queue itself.
    os.environ["DEERWEB_TEST_QUEUE"] = _queue_for_process()
    os.environ["DEERWEB_TEST_BROKER_OF"] = TEST_PROCESS
# Tests point DeerWeb at a simulator they start themselves.
os.environ.setdefault("DEERAPI_KEY", "test-deerapi-key-0123456789")
os.environ.setdefault("DEERAPI_BASE_URL", "http://127.0.0.1:9")
os.environ.setdefault("DEERAPI_QUERY_URL", "http://127.0.0.1:9")
# Webhooks go to receivers the tests start on 127.0.0.1 (tests/world.py: WebhookReceiver).
os.environ.setdefault("DEERWEB_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
# Email: the worker processes tests start write each message to a file in this process's folder,
# which the tests read (tests/world.py: mail_sent); in the test process itself pytest-django
# swaps in Django's in-memory outbox.
if os.environ.get("DEERWEB_TEST_MAIL_OF") != TEST_PROCESS:
    _test_dir = Path(os.environ.get("DEERWEB_TEST_DIR") or Path(__file__).resolve().parent.parent / "var")
    os.environ["DEERWEB_EMAIL_URL"] = f"file://{_test_dir.resolve() / f'test-mail-{TEST_PROCESS}'}"
    os.environ["DEERWEB_TEST_MAIL_OF"] = TEST_PROCESS

from deerweb.settings import *  # noqa: E402, F403

# Where this test process keeps its files: var/ of the checkout unless DEERWEB_TEST_DIR says otherwise.
TEST_DIR = Path(os.environ.get("DEERWEB_TEST_DIR") or VAR_DIR)  # noqa: F405
# A worker standing for one on another host gets a disk of its own (tests/conftest.py: s3_worker).
MEDIA_ROOT = Path(os.environ.get("DEERWEB_TEST_MEDIA_ROOT") or TEST_DIR / f"test-media-{TEST_PROCESS}")
NOTIFY_DIR = TEST_DIR / f"test-notify-{TEST_PROCESS}"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not pytest-django's in-memory default, so a worker process can share it:
    # var/deerweb.sqlite3 -> var/test_deerweb.sqlite3 (pytest-xdist appends _gw0, _gw1, …).
    _name = Path(DATABASES["default"]["NAME"])  # noqa: F405
    _name.parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(_name.with_name(f"test_{_name.name}"))}  # noqa: F405

if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    BROKER_DIR = TEST_DIR / f"test-broker-{TEST_PROCESS}"
    for _sub in ("in", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
    }

if CELERY_BROKER_URL.startswith(("amqp://", "amqps://")):  # noqa: F405
    CELERY_TASK_DEFAULT_QUEUE = os.environ.get("DEERWEB_TEST_QUEUE") or _queue_for_process()
