"""`manage.py check --deploy` is clean with production settings, and those settings are
the secure ones: HTTPS-only cookies, HSTS, a redirect to HTTPS (but not for /healthz and /livez)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

from tests.world import ROOT

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "deerweb.settings",
    "DJANGO_DEBUG": "0",
    "DEERWEB_HTTPS": "1",
    "DJANGO_ALLOWED_HOSTS": "deerweb.example.com",
    "DEERAPI_KEY": "sk-production-key-0123456789",
}


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEERAPI_", "DEERWEB_"))}
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    env.update(PRODUCTION, DJANGO_SECRET_KEY=secrets.token_urlsafe(50), **extra)
    return env


def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=production_env(**extra), capture_output=True, text=True, timeout=120
    )


def test_check_deploy_finds_no_issues_with_production_settings():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_without_https():
    # The same command does catch an insecure setting: the test above is not vacuous.
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", DEERWEB_HTTPS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


def test_production_settings_are_the_secure_ones():
    script = (
        "import json, deerweb.settings as s; print(json.dumps({name: getattr(s, name) for name in ("
        "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_CONTENT_TYPE_NOSNIFF', 'X_FRAME_OPTIONS', "
        "'SECURE_REDIRECT_EXEMPT', 'SECURE_PROXY_SSL_HEADER')}))"
    )
    result = run("-c", script)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REDIRECT_EXEMPT": ["^healthz$", "^livez$"],
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_production_answers_with_hsts_and_secure_cookies_behind_the_proxy():
    script = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="deerweb.example.com")
plain = client.get("/accounts/login/")
health = client.get("/healthz")
secure = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
print(plain.status_code, plain["Location"])
print(health.status_code != 301)
print(secure.status_code, secure["Strict-Transport-Security"], secure.cookies["csrftoken"]["secure"])
"""
    # As a production deploy does, collect the static files first (the manifest storage needs them).
    collected = run("manage.py", "collectstatic", "--noinput", "--verbosity", "0", CELERY_BROKER_URL="memory://")
    assert collected.returncode == 0, collected.stderr
    result = run("-c", script, DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "301 https://deerweb.example.com/accounts/login/"
    assert lines[1] == "True"
    assert lines[2] == "200 max-age=31536000; includeSubDomains; preload True"
