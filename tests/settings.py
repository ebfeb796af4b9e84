"""Settings for the test suite: deerweb.settings with safe test defaults.

PostgreSQL and Redis on this machine are used when they answer (or when
DATABASE_URL / CELERY_BROKER_URL name them); otherwise SQLite and an in-memory
broker, and the tests that need the real services skip — or fail, when
DEERWEB_REQUIRE_SERVICES=1 (as in CI).
"""

import os
import socket


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("DEERWEB_LOG_LEVEL", "WARNING")
if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/deerweb"
if "CELERY_BROKER_URL" not in os.environ:
    os.environ["CELERY_BROKER_URL"] = (
        "redis://127.0.0.1:6379/15" if _answers("127.0.0.1", 6379) else "memory://"
    )
# Tests point DeerWeb at a simulator they start themselves.
os.environ.setdefault("DEERAPI_KEY", "test-deerapi-key-0123456789")
os.environ.setdefault("DEERAPI_BASE_URL", "http://127.0.0.1:9")
os.environ.setdefault("DEERAPI_QUERY_URL", "http://127.0.0.1:9")

from deerweb.settings import *  # noqa: E402, F403

MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
