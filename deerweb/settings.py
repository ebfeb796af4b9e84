"""DeerWeb settings: every value comes from the environment, read once, here.

The readers below are strict: a value that does not parse stops start-up with a
message naming the variable. Defaults run DeerWeb from a checkout (SQLite, a
filesystem broker, media under var/, the DeerAPI simulator); production secrets
have no default.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def env_str(name: str, default: str | None = None) -> str | None:
    """A string from NAME, or from the file named by NAME_FILE (for Docker secrets)."""
    value = os.environ.get(name)
    if value:
        return value
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name!r}: {exc}") from exc
    return default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}: expected a boolean (true/false/1/0), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a whole number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {number}")
    return number


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a number, got {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {number}")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env_str(name, default) or default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}: expected one of {', '.join(choices)}; got {value!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    value = env_str(name, default) or default
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        # Only the scheme is named: the URL may hold a password (an SMTP or database URL).
        raise ImproperlyConfigured(f"{name}: expected a URL starting with {allowed}; got one starting {parts.scheme!r}")
    if parts.scheme in ("http", "https") and not parts.netloc:
        raise ImproperlyConfigured(f"{name}: the URL has no host")
    return value


# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY: required when DJANGO_DEBUG is off (`make run` generates one in var/secret_key)"
        )
    SECRET_KEY = "insecure-debug-only-key"  # noqa: S105 - DEBUG only, never in production

# Earlier values of DJANGO_SECRET_KEY, comma-separated, still accepted after it changes: sessions,
# signed links and encrypted webhook URLs made under them keep working (webhook signing secrets
# follow the current key only).
SECRET_KEY_FALLBACKS = [
    key.strip() for key in (env_str("DJANGO_SECRET_KEY_FALLBACKS", "") or "").split(",") if key.strip()
]

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "deerweb.admin_site.DeerWebAdminConfig",  # Django's admin, its app lists kept (deerweb/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",  # Content-Security-Policy
    "axes",  # login throttling
    # DeerWeb's domains, lowest layer first (pyproject.toml's import-linter contract keeps
    # each one from importing those listed after it).
    "common",
    "ops",
    "audit",
    "notifications",
    "accounts",
    "catalog",
    "deerapi",
    "billing",
    "predictions",
    "reviews",
    "webhooks",
    "albums",
    "alerts",
    "api",
    "home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "deerweb.static.StaticFilesMiddleware",  # WhiteNoise
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # CSP on every page (a response's own CSP is kept); log
    # lines carry the prediction a page is about; login lockouts (axes: keep it last).
    "csp.middleware.CSPMiddleware",
    "ops.logging.PredictionLogContextMiddleware",
    "axes.middleware.AxesMiddleware",
]
# The Replicate-compatible API's chain under ASGI (deerweb/asgi.py): tokens, not sessions, and
# all async, so a request waiting on a prediction holds no thread.
API_MIDDLEWARE = ["api.middleware.SecurityHeadersMiddleware"]

ROOT_URLCONF = "deerweb.urls"
WSGI_APPLICATION = "deerweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "deerweb.context_processors.deerweb",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'deerweb.sqlite3'}",
    schemes=("postgres", "postgresql", "sqlite"),
)
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from exc
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share the file: wait for a lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    # Each process keeps a pool of connections (psycopg_pool): Django takes one for a request or
    # a task and gives it back after (CONN_MAX_AGE 0), so an async view waiting between two reads
    # holds none, and no request or task pays for opening one. A connection is checked before it
    # is lent (CONN_HEALTH_CHECKS), so one PostgreSQL dropped is replaced, not handed out; after
    # a PostgreSQL restart psycopg_pool backs off between failed checks (1 s, 2 s, …), so the
    # first requests of a process that held many connections wait a few seconds for a new one.
    # A request waits up to DEERWEB_DB_POOL_TIMEOUT seconds for a free one, then fails. A worker
    # needs one per task thread (--concurrency) and per poller thread (DEERWEB_POLL_THREADS) at most.
    DB_POOL_MIN_SIZE = env_int("DEERWEB_DB_POOL_MIN_SIZE", 1, minimum=0)
    DB_POOL_MAX_SIZE = env_int("DEERWEB_DB_POOL_MAX_SIZE", 20, minimum=1)
    if DB_POOL_MAX_SIZE < DB_POOL_MIN_SIZE:
        raise ImproperlyConfigured(
            f"DEERWEB_DB_POOL_MAX_SIZE: must be at least DEERWEB_DB_POOL_MIN_SIZE ({DB_POOL_MIN_SIZE}), "
            f"got {DB_POOL_MAX_SIZE}"
        )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": DB_POOL_MIN_SIZE,
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": env_float("DEERWEB_DB_POOL_TIMEOUT", 10.0, minimum=0.1),
        },
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "predictions.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("DEERWEB_TIME_ZONE", "UTC")
USE_TZ = True

# --- Static and media files -------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")) or "")
MEDIA_URL = "/media/"  # never routed: stored files are served by a view after a permission check


def object_storage(bucket: str, *, endpoint_url: str = "", prefix: str = "") -> dict[str, Any]:
    """STORAGES["default"] for stored files in an S3-compatible bucket (deerweb/storage.py)."""
    return {
        "BACKEND": "deerweb.storage.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            # A store other than AWS is asked at endpoint/bucket/key: as a host name
            # (bucket.minio:9000) the bucket would need a DNS name of its own.
            "addressing_style": "path" if endpoint_url else None,
            "location": prefix,
            # No ACL on the objects: they are as private as the bucket. DeerWeb streams every
            # file after its permission check and never links to the store.
            "default_acl": None,
            # Any URL the backend is asked for is signed and short-lived, never a public one.
            "querystring_auth": True,
            "querystring_expire": 300,
            # A name already taken gets a suffix, as on disk: no file replaces another.
            "file_overwrite": False,
        },
    }


# Stored outputs, thumbnails and uploads: on the local disk under MEDIA_ROOT, or with
# DEERWEB_S3_BUCKET in that bucket of an S3-compatible store (AWS S3 unless
# DEERWEB_S3_ENDPOINT_URL names another), under DEERWEB_S3_PREFIX. The credentials are
# boto3's usual ones: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or its other sources.
S3_BUCKET = env_str("DEERWEB_S3_BUCKET", "") or ""
S3_ENDPOINT_URL = (
    env_url("DEERWEB_S3_ENDPOINT_URL", "", schemes=("http", "https")) if env_str("DEERWEB_S3_ENDPOINT_URL") else ""
)
S3_PREFIX = (env_str("DEERWEB_S3_PREFIX", "") or "").strip("/")
if S3_BUCKET and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", S3_BUCKET):
    raise ImproperlyConfigured(
        f"DEERWEB_S3_BUCKET: expected a bucket name (3-63 lower-case letters, digits, dots and hyphens), "
        f"got {S3_BUCKET!r}"
    )
if S3_PREFIX and {"", ".", ".."} & set(S3_PREFIX.split("/")):
    raise ImproperlyConfigured(f"DEERWEB_S3_PREFIX: expected a path like deerweb/media, got {S3_PREFIX!r}")
if not S3_BUCKET and (S3_ENDPOINT_URL or S3_PREFIX):
    raise ImproperlyConfigured(
        "DEERWEB_S3_ENDPOINT_URL and DEERWEB_S3_PREFIX need DEERWEB_S3_BUCKET (without it files stay on local disk)"
    )
STORAGES: dict[str, dict[str, Any]] = {
    "default": (
        object_storage(S3_BUCKET, endpoint_url=S3_ENDPOINT_URL, prefix=S3_PREFIX)
        if S3_BUCKET
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security ---------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("DEERWEB_SESSION_AGE", 14 * 24 * 3600, minimum=60)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# A refused form gets a page in the site's layout with the way back to the form.
CSRF_FAILURE_VIEW = "deerweb.views.csrf_failure"
HTTPS = env_bool("DEERWEB_HTTPS", False)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DEERWEB_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DEERWEB_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Security and operations ------------------------------------------------
# Load balancers and monitors may check /healthz and /livez over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]
# Sessions end SESSION_COOKIE_AGE after login, browser closed or not: browsers that
# restore tabs keep "session" cookies across restarts anyway, so expiring at close
# would only log members out more often without bounding a session's life.
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
# No inline script or style anywhere: JS and CSS come from static/deerweb/. Responses
# that set their own policy (stored files: a sandbox) keep it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
# Error reports (the DEBUG 500 page, error e-mails) never show the DeerAPI key or the
# credentials in DATABASE_URL / CELERY_BROKER_URL.
DEFAULT_EXCEPTION_REPORTER = "ops.logging.RedactingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "ops.logging.RedactingExceptionReporterFilter"
# Stored files: with a prefix (e.g. /protected-media/), DeerWeb checks permission and
# answers with X-Accel-Redirect for nginx to send the file from an `internal` location.
FILE_ACCEL_PREFIX = env_str("DEERWEB_FILE_ACCEL_PREFIX", "") or ""
if FILE_ACCEL_PREFIX and not (FILE_ACCEL_PREFIX.startswith("/") and FILE_ACCEL_PREFIX.endswith("/")):
    raise ImproperlyConfigured(
        f"DEERWEB_FILE_ACCEL_PREFIX: expected a path that starts and ends with /, got {FILE_ACCEL_PREFIX!r}"
    )
if FILE_ACCEL_PREFIX and S3_BUCKET:
    raise ImproperlyConfigured(
        "DEERWEB_FILE_ACCEL_PREFIX: nginx sends files from MEDIA_ROOT's disk, and with DEERWEB_S3_BUCKET "
        "the files are in the bucket (DeerWeb streams them itself): set one or the other"
    )
# Reverse proxies in front of DeerWeb that append the client's address to
# X-Forwarded-For (0: clients connect directly; REMOTE_ADDR is theirs).
PROXY_COUNT = env_int("DEERWEB_PROXY_COUNT", 0, minimum=0)
# Login throttling (django-axes): a few failures lock the account, and separately the
# address, for a minute. The lockout is a message on the login page, not an error page.
AUTHENTICATION_BACKENDS = [
    "accounts.login_throttle.LoginThrottleBackend",
    # Reads permissions only (one query where ModelBackend runs two); ModelBackend signs members in.
    "accounts.backends.PermissionsInOneQueryBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("DEERWEB_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("DEERWEB_LOGIN_LOCKOUT_SECONDS", 60, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "accounts.login_throttle.lockout_response"
# The address failures count against, found by django-ipware. Behind N proxies: the one
# the outermost proxy saw, N-th from the right in X-Forwarded-For; entries to its left
# were written by the client and are not trusted (not strict: such entries are allowed).
# ipware counts the proxies after that entry in the header, hence N - 1.
if PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR"]
    AXES_IPWARE_PROXY_COUNT = PROXY_COUNT - 1
    IPWARE_STRICT = False
# Attempts while locked out are refused unchecked and do not extend the lockout.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Failures are kept (until they expire); successful logins are not logged to the database.
AXES_DISABLE_ACCESS_LOG = True

# --- DeerAPI ----------------------------------------------------------------

DEERAPI_KEY = env_str("DEERAPI_KEY", "") or ""
# With no key DeerWeb runs in sandbox mode against the bundled simulator.
SANDBOX = not DEERAPI_KEY
SIMULATOR_PORT = env_int("DEERWEB_SIMULATOR_PORT", 8765, minimum=1)
DEERAPI_BASE_URL = env_url(
    "DEERAPI_BASE_URL",
    f"http://127.0.0.1:{SIMULATOR_PORT}" if SANDBOX else "https://api.deerapi.com",
    schemes=("http", "https"),
).rstrip("/")
# DeerAPI's balance endpoint (GET /user/quota?key=…) lives on its own host; the
# simulator answers it too, so sandbox mode asks the simulator.
DEERAPI_QUERY_URL = env_url(
    "DEERAPI_QUERY_URL", DEERAPI_BASE_URL if SANDBOX else "https://query.deerapi.com", schemes=("http", "https")
).rstrip("/")
if SANDBOX:
    DEERAPI_KEY = "sandbox-key"  # noqa: S105 - the simulator's key, not a secret
DEERAPI_CONNECT_TIMEOUT = env_float("DEERAPI_CONNECT_TIMEOUT", 5.0, minimum=0.1)
DEERAPI_READ_TIMEOUT = env_float("DEERAPI_READ_TIMEOUT", 30.0, minimum=0.1)
# Hard time limits of the tasks that call DeerAPI (seconds). A claim on a row
# (its lease) lasts a little longer, so the sweep never takes work from a task
# that is still allowed to run.
DEERAPI_CALL_LIMIT = int(DEERAPI_CONNECT_TIMEOUT + DEERAPI_READ_TIMEOUT) + 10
STORE_TIME_LIMIT = env_int("DEERWEB_STORE_TIME_LIMIT", 210, minimum=10)
LEASE_MARGIN = 15

# Pipeline behaviour.
PREDICTION_TIMEOUT = env_int("DEERWEB_PREDICTION_TIMEOUT", 15 * 60, minimum=10)
OUTPUT_MAX_BYTES = env_int("DEERWEB_OUTPUT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
SWEEP_INTERVAL = env_float("DEERWEB_SWEEP_INTERVAL", 5.0, minimum=0.5)
# How late a due row must be before the sweep assumes its message was lost.
SWEEP_GRACE = env_float("DEERWEB_SWEEP_GRACE", 10.0, minimum=0.5)
# Threads in each worker process that poll DeerAPI for the running predictions that are due,
# claimed a batch at a time from the database (predictions/poller.py). 0: every poll is a Celery
# message instead. Each thread holds a database connection while it has work.
POLL_THREADS = env_int("DEERWEB_POLL_THREADS", 8, minimum=0)
# Whether a worker's poller sends creates no faster than it stores their results (predictions/pacing.py):
# off by default, since in a burst it lowered the lag but raised what members wait in all.
PACE_CREATES = env_bool("DEERWEB_PACE_CREATES", False)
SUBMIT_MAX_ATTEMPTS = env_int("DEERWEB_SUBMIT_MAX_ATTEMPTS", 6, minimum=1)
DOWNLOAD_MAX_ATTEMPTS = env_int("DEERWEB_DOWNLOAD_MAX_ATTEMPTS", 5, minimum=1)
PROMPT_MAX_LENGTH = env_int("DEERWEB_PROMPT_MAX_LENGTH", 4000, minimum=10)
# /healthz fails when background tasks raised this many times in this many seconds (or one
# prediction's tasks raised twice in that time and it is still being worked on).
HEALTH_FAILURE_LIMIT = env_int("DEERWEB_HEALTH_FAILURE_LIMIT", 5, minimum=1)
HEALTH_FAILURE_WINDOW = env_int("DEERWEB_HEALTH_FAILURE_WINDOW", 600, minimum=60)
# Where DeerAPI can reach this DeerWeb (e.g. https://deerweb.example.com): uploaded input
# images over 256 KB are fetched from {PUBLIC_URL}/inputs/<token>/. Empty: only smaller
# uploads (sent inline as data URLs) can be used.
PUBLIC_URL = (
    env_url("DEERWEB_PUBLIC_URL", "", schemes=("http", "https")).rstrip("/") if env_str("DEERWEB_PUBLIC_URL") else ""
)
# DeerAPI's webhooks as a hint. DeerAPI documents a create's `webhook` field but not whether or
# how it calls it. "on": each create asks DeerAPI to POST to {PUBLIC_URL}/deerapi/hints/<signed
# id>/ when the prediction ends, which brings its next poll forward (the poll stays the only
# source of truth); while such calls arrive, polls are spaced out. "auto" (default): "on" when
# PUBLIC_URL is https (a webhook URL DeerAPI may accept), else "off".
DEERAPI_WEBHOOKS = env_choice("DEERWEB_DEERAPI_WEBHOOKS", "auto", ("auto", "on", "off"))
if DEERAPI_WEBHOOKS == "on" and not PUBLIC_URL:
    raise ImproperlyConfigured("DEERWEB_DEERAPI_WEBHOOKS=on needs DEERWEB_PUBLIC_URL (where DeerAPI can reach DeerWeb)")
# Seconds after its upload an input image's public URL may answer at most. It stops sooner,
# once no prediction using the image can still be fetched by DeerAPI (all have ended); it
# must outlast the time a prediction may take (DEERWEB_PREDICTION_TIMEOUT).
INPUT_URL_TTL = env_int("DEERWEB_INPUT_URL_TTL", 3 * 3600, minimum=60)
if INPUT_URL_TTL < PREDICTION_TIMEOUT:
    raise ImproperlyConfigured(
        f"DEERWEB_INPUT_URL_TTL: must be at least DEERWEB_PREDICTION_TIMEOUT ({PREDICTION_TIMEOUT}), "
        f"got {INPUT_URL_TTL}"
    )

# The API (/replicate/v1/): requests per token per minute (0: no limit), counted in Django's
# cache; DEERWEB_CACHE_URL (redis://…) shares that cache between web processes.
API_RATE_LIMIT = env_int("DEERWEB_API_RATE_LIMIT", 600, minimum=0)
CACHES: dict[str, dict[str, Any]]
if env_str("DEERWEB_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_url("DEERWEB_CACHE_URL", "", schemes=("redis", "rediss", "unix")),
        }
    }
else:
    # Each process's own: the API's counts, and the list pages' rendered rows (common/rows.py),
    # a few KB each; Django's default of 300 entries would drop a page's rows as the next page
    # is shown.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": env_int("DEERWEB_LOCAL_CACHE_ENTRIES", 10_000, minimum=100)},
        }
    }
# Seconds the output URLs the API hands out (signed, fetchable without a token) keep working.
API_OUTPUT_URL_TTL = env_int("DEERWEB_API_OUTPUT_URL_TTL", 24 * 3600, minimum=60)

# --- Email and budget alerts -----------------------------------------------

# How DeerWeb sends email (budget alerts): DEERWEB_EMAIL_URL (or _FILE) is
#   console://                       print each email on the worker's output (the default: `make run`)
#   smtp://user@host:587             SMTP with STARTTLS; smtps://user@host:465 for TLS from the start;
#                                    smtp+plain://host:25 with neither (a relay on the same host)
#   file:///var/mail/deerweb         one file per email in that folder
# The SMTP password comes from DEERWEB_EMAIL_PASSWORD (or _FILE), or from the URL.
EMAIL_URL = env_url("DEERWEB_EMAIL_URL", "console://", schemes=("console", "smtp", "smtps", "smtp+plain", "file"))
_email = urlsplit(EMAIL_URL)
if _email.scheme == "console":
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
elif _email.scheme == "file":
    if not _email.path.startswith("/"):
        raise ImproperlyConfigured(f"DEERWEB_EMAIL_URL: a file:// URL needs an absolute folder, got {EMAIL_URL!r}")
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = _email.path
else:
    if not _email.hostname:
        raise ImproperlyConfigured("DEERWEB_EMAIL_URL: an smtp URL needs a host")
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname
    try:
        EMAIL_PORT = _email.port or {"smtp": 587, "smtps": 465, "smtp+plain": 25}[_email.scheme]
    except ValueError:
        raise ImproperlyConfigured("DEERWEB_EMAIL_URL: the port is not a number") from None
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = env_str("DEERWEB_EMAIL_PASSWORD") or unquote(_email.password or "")
    EMAIL_USE_TLS = _email.scheme == "smtp"
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEERWEB_EMAIL_FROM", "DeerWeb <deerweb@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The team's Slack-compatible incoming webhook for budget alerts (a secret). Set here, it wins
# over one an admin stores (encrypted) on the alert settings page. Empty: none.
SLACK_WEBHOOK_URL = env_str("DEERWEB_SLACK_WEBHOOK_URL", "") or ""
if SLACK_WEBHOOK_URL and urlsplit(SLACK_WEBHOOK_URL).scheme not in ("https", "http"):
    raise ImproperlyConfigured("DEERWEB_SLACK_WEBHOOK_URL: expected an https:// URL")

# --- Webhooks -----------------------------------------------------------------

# The port `make run` (and the Procfile's web process) serves DeerWeb on, at 127.0.0.1.
PORT = env_int("DEERWEB_PORT", 8000, minimum=1)
# The address the URLs in a webhook's body start with (its outputs, its API URL): PUBLIC_URL,
# or without one the address `make run` serves on, which only a receiver on this machine can use.
WEBHOOK_BASE_URL = PUBLIC_URL or f"http://127.0.0.1:{PORT}"
# Hosts a webhook may be sent to although they are (or resolve to) private, loopback or
# link-local addresses: names or addresses, e.g. `hooks.internal,127.0.0.1`. Empty: none.
WEBHOOK_ALLOWED_HOSTS = [
    host.lower().removeprefix("[").removesuffix("]") for host in env_list("DEERWEB_WEBHOOK_ALLOWED_HOSTS", [])
]
for _host in WEBHOOK_ALLOWED_HOSTS:
    if "/" in _host or "@" in _host or " " in _host:
        raise ImproperlyConfigured(f"DEERWEB_WEBHOOK_ALLOWED_HOSTS: expected host names or addresses, got {_host!r}")
# Seconds to connect to a receiver, and again to wait for its answer.
WEBHOOK_TIMEOUT = env_float("DEERWEB_WEBHOOK_TIMEOUT", 5.0, minimum=0.5)
# Tries of one webhook message a receiver refused (5xx, 429) or did not answer; the wait
# before the second doubles for each next one, with jitter (10, 20, 40, 80 s: about 2.5 min).
WEBHOOK_MAX_ATTEMPTS = env_int("DEERWEB_WEBHOOK_MAX_ATTEMPTS", 5, minimum=1)
WEBHOOK_RETRY_DELAY = env_float("DEERWEB_WEBHOOK_RETRY_DELAY", 10.0, minimum=0.1)
# The hard time limit of a delivery task: the host's resolution, the connection and the answer.
WEBHOOK_CALL_LIMIT = int(2 * WEBHOOK_TIMEOUT) + 10

# --- Celery -----------------------------------------------------------------

CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    "filesystem://",
    schemes=("redis", "rediss", "filesystem", "memory", "amqp", "amqps"),
)
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The filesystem transport has no host; naming one keeps kombu from warning on every send.
    if CELERY_BROKER_URL == "filesystem://":
        CELERY_BROKER_URL = "filesystem://localhost//"
    # kombu's, with each message written whole before a worker can see it (deerweb/broker.py).
    CELERY_BROKER_TRANSPORT = "deerweb.broker:Transport"
    # The folders are made when DeerWeb starts (PredictionsConfig.ready), not on import.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # How often a worker looks for new messages (kombu's default is 1 s): each step of a
        # prediction would otherwise wait up to a second under `make run`.
        "polling_interval": 0.2,
    }
else:
    # Poll countdowns are seconds; a generous visibility timeout (Redis's) never fires early.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A pool process reserves one message at a time: a poll that falls due waits behind at most
# one reserved create per process, not four (p95 lag in bench/ 2.5 s -> 1.0 s at 20 s).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup would close the database connections around every task and, in a
# prefork pool process, close its whole connection pool with them (opening a PostgreSQL
# connection was a sixth of a pipeline task's time: bench/, README). deerweb/celery.py gives the
# connection back to the pool around each task instead (closes it, on SQLite).
CELERY_DB_REUSE_MAX = 10_000
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Every task's priority, by name: polls, stores and every task not named go first, webhook
# deliveries next, creates last, so work on predictions already at DeerAPI never waits behind a
# burst of new submissions, and a busy worker sends new ones only as it keeps up with the running
# ones. Celery passes the number to the broker as it is, and the brokers read it in opposite ways:
# Redis takes the lowest first (kombu's steps 0, 3, 6, 9), RabbitMQ the highest, and only from a
# queue declared with x-max-priority. The filesystem broker has no priorities.
_AMQP_BROKER = CELERY_BROKER_URL.startswith(("amqp://", "amqps://"))
if _AMQP_BROKER:
    # A queue of DeerWeb's own name, declared with priorities: Celery's default one (`celery`) may
    # exist without them, and RabbitMQ refuses to declare a queue again with other arguments.
    CELERY_TASK_DEFAULT_QUEUE = "deerweb"
    CELERY_TASK_QUEUE_MAX_PRIORITY = 3
    _PRIORITY = {"first": 3, "webhook": 2, "create": 1}
else:
    _PRIORITY = {"first": 0, "webhook": 3, "create": 6}
CELERY_TASK_ROUTES = {
    "predictions.tasks.submit": {"priority": _PRIORITY["create"]},
    "webhooks.tasks.deliver": {"priority": _PRIORITY["webhook"]},
    "*": {"priority": _PRIORITY["first"]},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "sweep-predictions": {
        "task": "predictions.tasks.sweep",
        "schedule": SWEEP_INTERVAL,
        "options": {"expires": SWEEP_INTERVAL * 2},
    },
    # DeerAPI's account balance and usage, for the team usage page.
    "refresh-deerapi-balance": {
        "task": "predictions.tasks.deerapi_balance_refresh",
        "schedule": env_float("DEERWEB_BALANCE_INTERVAL", 300.0, minimum=10.0),
        "options": {"expires": 240},
    },
    # Uploaded input images no prediction was made with: removed after a day.
    "purge-orphan-input-images": {
        "task": "predictions.tasks.input_images_purge",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
}

# --- Notifications ----------------------------------------------------------
# How a process that changed a prediction wakes the web requests waiting for it (ops/notifier.py):
# `redis` (pub/sub on the broker's Redis), `postgresql` (LISTEN/NOTIFY), or `local` (Unix datagram
# sockets in NOTIFY_DIR: every process on one host). `auto`: redis with a Redis broker, postgresql
# on PostgreSQL with another broker (RabbitMQ), local otherwise (SQLite and the filesystem broker).
NOTIFIER = env_choice("DEERWEB_NOTIFIER", "auto", ("auto", "redis", "postgresql", "local"))
_REDIS_BROKER = CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
_POSTGRESQL = not DATABASES["default"]["ENGINE"].endswith("sqlite3")
if NOTIFIER == "auto":
    NOTIFIER = "redis" if _REDIS_BROKER else "postgresql" if _POSTGRESQL else "local"
elif NOTIFIER == "redis" and not _REDIS_BROKER:
    raise ImproperlyConfigured("DEERWEB_NOTIFIER: redis needs a Redis broker (CELERY_BROKER_URL=redis://…)")
elif NOTIFIER == "postgresql" and not _POSTGRESQL:
    raise ImproperlyConfigured("DEERWEB_NOTIFIER: postgresql needs a PostgreSQL database (DATABASE_URL=postgres://…)")
# The local notifier's sockets: made when a web process first waits, not on import.
NOTIFY_DIR = VAR_DIR / "notify"

# --- Logging ----------------------------------------------------------------

LOG_LEVEL = env_str("DEERWEB_LOG_LEVEL", "INFO")
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR"):
    raise ImproperlyConfigured(f"DEERWEB_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got {LOG_LEVEL!r}")
# One line per record: `key=value` pairs, or JSON objects; with `prediction_id` on
# every line about a prediction.
LOG_FORMAT = env_str("DEERWEB_LOG_FORMAT", "keyvalue")
if LOG_FORMAT not in ("keyvalue", "json"):
    raise ImproperlyConfigured(f"DEERWEB_LOG_FORMAT: expected keyvalue or json, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "ops.logging.RedactSecretsFilter"},
        "prediction": {"()": "ops.logging.PredictionContextFilter"},
    },
    "formatters": {
        "keyvalue": {"()": "ops.logging.KeyValueFormatter"},
        "json": {"()": "ops.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["prediction", "redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # The web server's own lines (start, stop, one per request) in the same format as the rest.
        "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
