#!/bin/sh
# DeerWeb's container entrypoint. One image plays every role (web, worker, beat,
# simulator); the role is the command. Before running it:
#
#   DEERWEB_MIGRATE=1           run `manage.py migrate --noinput` first (the web
#                               service sets it; worker and beat must not).
#   DEERWEB_SANDBOX_BASE_URL    where the DeerAPI simulator answers inside the
#                               compose network. With no DeerAPI key (sandbox
#                               mode) and no DEERAPI_BASE_URL, DEERAPI_BASE_URL
#                               becomes this; with a key it is ignored.
#
# `entrypoint.sh healthcheck` exits 0 when the web server answers on port 8000 (the
# compose web service's healthcheck).
set -eu

cd /app

log() {
    printf 'deerweb-entrypoint: %s\n' "$*" >&2
}

# The same words as env_bool() in deerweb/settings.py.
is_true() {
    value=$(printf '%s' "${2:-}" | tr '[:upper:]' '[:lower:]' | tr -d '[:space:]')
    case "$value" in
        1 | true | yes | on) return 0 ;;
        "" | 0 | false | no | off) return 1 ;;
        *)
            log "$1: expected a boolean (true/false/1/0), got '$2'"
            exit 64
            ;;
    esac
}

# Sandbox mode as settings.py decides it: no DEERAPI_KEY and no non-empty DEERAPI_KEY_FILE.
has_deerapi_key() {
    [ -n "${DEERAPI_KEY:-}" ] && return 0
    [ -n "${DEERAPI_KEY_FILE:-}" ] || return 1
    # An unreadable file counts as a key here: settings.py then stops with a clear error.
    [ -r "$DEERAPI_KEY_FILE" ] || return 0
    [ -n "$(tr -d '[:space:]' <"$DEERAPI_KEY_FILE")" ]
}

if [ "${1:-}" = "healthcheck" ]; then
    exec python - <<'PY'
import http.client
import os
import sys

# Ask as a client would: an allowed Host (no DisallowedHost noise) and, when
# DEERWEB_HTTPS is on, the proxy's X-Forwarded-Proto (no redirect to https).
hosts = [h.strip().lstrip(".") for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")]
host = next((h for h in hosts if h and "*" not in h), "localhost")
connection = http.client.HTTPConnection("127.0.0.1", 8000, timeout=5)
try:
    connection.request("GET", "/accounts/login/", headers={"Host": host, "X-Forwarded-Proto": "https"})
    status = connection.getresponse().status
except OSError as exc:
    print(f"unhealthy: {exc}")
    sys.exit(1)
print(f"HTTP {status}")
sys.exit(0 if status < 500 else 1)
PY
fi

if [ -n "${DEERWEB_SANDBOX_BASE_URL:-}" ] && [ -z "${DEERAPI_BASE_URL:-}" ] \
    && [ -z "${DEERAPI_BASE_URL_FILE:-}" ] && ! has_deerapi_key; then
    DEERAPI_BASE_URL=$DEERWEB_SANDBOX_BASE_URL
    export DEERAPI_BASE_URL
    sandbox_host=${DEERAPI_BASE_URL#*://}
    sandbox_host=${sandbox_host%%/*}
    sandbox_host=${sandbox_host%:*}
    if ! getent hosts "$sandbox_host" >/dev/null 2>&1; then
        log "no DEERAPI_KEY, so this is sandbox mode, but the simulator ($DEERAPI_BASE_URL) is not running."
        log "Set COMPOSE_PROFILES=sandbox in .env (or run 'docker compose --profile sandbox up'), or set DEERAPI_KEY."
    fi
fi

if [ -n "${MEDIA_ROOT:-}" ] && [ -d "$MEDIA_ROOT" ] && [ ! -w "$MEDIA_ROOT" ]; then
    log "MEDIA_ROOT $MEDIA_ROOT is not writable by uid $(id -u): output files cannot be stored."
fi

if is_true DEERWEB_MIGRATE "${DEERWEB_MIGRATE:-}"; then
    log "applying database migrations"
    python manage.py migrate --noinput
fi

exec "$@"
