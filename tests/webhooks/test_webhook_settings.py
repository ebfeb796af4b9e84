"""The webhooks' settings: typed, a bad value stops start-up naming it, and where webhook bodies say DeerWeb is."""

import pytest

from tests.world import load_settings

SHOW = "import deerweb.settings as s; print(s.WEBHOOK_BASE_URL, s.WEBHOOK_ALLOWED_HOSTS, s.SECRET_KEY_FALLBACKS)"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEERWEB_WEBHOOK_TIMEOUT", "soon"),
        ("DEERWEB_WEBHOOK_MAX_ATTEMPTS", "0"),
        ("DEERWEB_WEBHOOK_RETRY_DELAY", "-1"),
        ("DEERWEB_WEBHOOK_ALLOWED_HOSTS", "http://hooks.internal/x"),
        ("DEERWEB_PORT", "http"),
    ],
)
def test_a_bad_webhook_setting_stops_start_up_naming_the_variable(name, value):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_webhook_bodies_name_deerweb_at_its_public_url_or_where_make_run_serves_it():
    public = load_settings(SHOW, DJANGO_SECRET_KEY="k" * 50, DEERWEB_PUBLIC_URL="https://deerweb.example.com/")
    assert public.stdout.split()[0] == "https://deerweb.example.com"
    local = load_settings(SHOW, DJANGO_SECRET_KEY="k" * 50, DEERWEB_PORT="8123")
    assert local.stdout.split()[0] == "http://127.0.0.1:8123"


def test_allowed_hosts_and_secret_key_fallbacks_are_comma_separated_lists():
    result = load_settings(
        SHOW,
        DJANGO_SECRET_KEY="k" * 50,
        DEERWEB_WEBHOOK_ALLOWED_HOSTS="Hooks.Internal, [::1],127.0.0.1",
        DJANGO_SECRET_KEY_FALLBACKS="old-one,older-one",
    )
    assert result.returncode == 0, result.stderr
    assert "['hooks.internal', '::1', '127.0.0.1'] ['old-one', 'older-one']" in result.stdout
