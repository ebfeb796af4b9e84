"""The DeerAPI key never reaches a log line, an error report or a page."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.views.debug import get_default_exception_reporter_filter, get_exception_reporter_class

from ops.logging import JsonFormatter, RedactSecretsFilter
from tests.world import add_output, make_prediction

KEY = settings.DEERAPI_KEY


@pytest.fixture
def console() -> io.StringIO:
    """What the configured console handler (its filters and formatter) writes."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


class DeerAPIDown(Exception):
    pass


def call_deerapi(key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}  # a local an error report would show
    raise DeerAPIDown(f"GET https://query.deerapi.com/user/quota?key={key} failed", headers)


def test_the_key_is_a_real_secret_in_these_tests():
    assert len(KEY) >= 8 and KEY != "sandbox-key"


def test_a_log_message_with_the_key_is_redacted(console):
    logging.getLogger("deerapi.client").error("calling DeerAPI with %s", f"Bearer {KEY}")
    logging.getLogger("deerapi.client").error(f"no args: {KEY}")
    text = console.getvalue()
    assert KEY not in text
    assert text.count("Bearer [redacted]") == 1
    assert "no args: [redacted]" in text


def test_an_exception_and_its_traceback_are_redacted(console):
    try:
        try:
            call_deerapi(KEY)
        except DeerAPIDown as exc:
            raise RuntimeError(f"balance refresh failed: {exc}") from exc
    except RuntimeError:
        logging.getLogger("billing.services").exception("refresh failed for %s", KEY)
    text = console.getvalue()
    assert KEY not in text
    assert "refresh failed for [redacted]" in text
    assert "DeerAPIDown: ('GET https://query.deerapi.com/user/quota?key=[redacted] failed'" in text
    assert "RuntimeError: balance refresh failed" in text
    assert "Traceback (most recent call last)" in text


def test_an_exception_passed_as_exc_info_is_redacted(console):
    try:
        call_deerapi(KEY)
    except DeerAPIDown:
        info = sys.exc_info()
    logging.getLogger("celery.app.trace").error("Task failed", exc_info=info)
    assert KEY not in console.getvalue()
    assert "key=[redacted]" in console.getvalue()


def test_json_lines_are_redacted_too(console):
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    previous = handler.formatter
    handler.setFormatter(JsonFormatter())
    try:
        try:
            call_deerapi(KEY)
        except DeerAPIDown:
            logging.getLogger("predictions").exception("failed with %s", KEY)
    finally:
        handler.setFormatter(previous)
    assert KEY not in console.getvalue()
    assert "[redacted]" in console.getvalue()


def test_a_deerweb_api_token_in_a_log_line_is_redacted_but_the_prefix_lists_show_is_not(console):
    token = "dwt_A1b2C3d4" + "e5F6-g7H8_" * 3 + "i9"  # the format of accounts.tokens
    logging.getLogger("django.request").warning("Unauthorized: %s, listed as %s", token, "dwt_A1b2C3d4…")
    text = console.getvalue()
    assert token[12:] not in text
    assert "Unauthorized: [redacted], listed as dwt_A1b2C3d4…" in text


# --- Error reports ----------------------------------------------------------------------


def test_error_reports_hide_the_key_and_the_service_urls_among_the_settings():
    safe = get_default_exception_reporter_filter().get_safe_settings()
    for name in ("DEERAPI_KEY", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"):
        assert safe[name] == "********************", name


def test_error_reports_hide_the_key_in_messages_and_frame_variables():
    request = RequestFactory().get("/predictions/")
    try:
        call_deerapi(KEY)
    except DeerAPIDown:
        reporter = get_exception_reporter_class(request)(request, *sys.exc_info())
    html = reporter.get_traceback_html()
    text = reporter.get_traceback_text()
    for report in (html, text):
        assert KEY not in report
        assert "DeerAPIDown" in report
    assert "headers" in html  # the variable is listed, its value hidden


@pytest.mark.django_db
def test_the_debug_500_page_hides_the_key(client, member, settings, monkeypatch):
    from predictions import views

    settings.DEBUG = True
    client.raise_request_exception = False
    monkeypatch.setattr(views.catalog_selectors, "models_enabled", lambda: call_deerapi(KEY))
    client.force_login(member)
    response = client.get("/predictions/new/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "DeerAPIDown" in body
    assert KEY not in body


# --- Pages --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_page_shows_the_key_to_a_member_or_an_admin(client, member, admin_user):
    prediction = make_prediction(member)
    add_output(prediction)
    pages = [
        "/predictions/",
        "/predictions/new/",
        f"/predictions/{prediction.pk}/",
        f"/predictions/{prediction.pk}/live/",
        "/usage/",
        "/healthz",
    ]
    admin_pages = [
        "/usage/team/",
        "/admin/",
        "/admin/predictions/prediction/",
        f"/admin/predictions/prediction/{prediction.pk}/change/",
        "/admin/billing/teamsettings/",
    ]
    for user, urls in ((member, pages), (admin_user, pages + admin_pages)):
        client.force_login(user)
        for url in urls:
            response = client.get(url, follow=True)
            assert response.status_code in (200, 503), (url, response.status_code)
            assert KEY not in response.content.decode(), url
