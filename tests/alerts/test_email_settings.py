"""DEERWEB_EMAIL_URL and DEERWEB_SLACK_WEBHOOK_URL: read once, strictly, at start-up."""

from __future__ import annotations

import pytest

from tests.world import load_settings

# The backend's module, then the SMTP host, port, user, password, TLS, SSL, the folder, the sender: "|"-separated.
SHOW = (
    "import deerweb.settings as s; "
    "print(s.EMAIL_BACKEND.rsplit('.', 2)[1], *(getattr(s, name, '') for name in ('EMAIL_HOST', 'EMAIL_PORT', "
    "'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'EMAIL_FILE_PATH')), "
    "s.DEFAULT_FROM_EMAIL, sep='|')"
)
DEBUG = {"DJANGO_DEBUG": "true"}


def test_without_configuration_email_is_printed_on_the_console():
    result = load_settings(SHOW, **DEBUG)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "console||||||||DeerWeb <deerweb@localhost>"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mailer@mail.example.com", "smtp|mail.example.com|587|mailer||True|False|"),
        ("smtps://mailer:p%40ss@mail.example.com:2465", "smtp|mail.example.com|2465|mailer|p@ss|False|True|"),
        ("smtp+plain://localhost", "smtp|localhost|25|||False|False|"),
        ("file:///var/mail/deerweb", "filebased|||||||/var/mail/deerweb"),
    ],
)
def test_an_email_url_chooses_the_backend(url, expected):
    result = load_settings(SHOW, DEERWEB_EMAIL_URL=url, DEERWEB_EMAIL_FROM="alerts@example.com", **DEBUG)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{expected}|alerts@example.com"


def test_the_smtp_password_may_come_from_a_file(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")
    result = load_settings(
        SHOW, DEERWEB_EMAIL_URL="smtp://mailer@mail.example.com", DEERWEB_EMAIL_PASSWORD_FILE=str(secret), **DEBUG
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("|")[4] == "from-a-file"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEERWEB_EMAIL_URL": "pop3://mail.example.com"}, "DEERWEB_EMAIL_URL: expected a URL starting with"),
        ({"DEERWEB_EMAIL_URL": "smtp://"}, "DEERWEB_EMAIL_URL: an smtp URL needs a host"),
        ({"DEERWEB_EMAIL_URL": "smtp://mail.example.com:port"}, "DEERWEB_EMAIL_URL: the port is not a number"),
        ({"DEERWEB_SLACK_WEBHOOK_URL": "hooks.slack.com/x"}, "DEERWEB_SLACK_WEBHOOK_URL: expected an https:// URL"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_message(env, message):
    result = load_settings(SHOW, **env, **DEBUG)
    assert result.returncode != 0
    assert message in result.stderr
