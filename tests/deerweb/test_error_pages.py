"""The error pages (403, 404, 500 and a refused form) with DEBUG off: the site's header and a
way back. The 500 page renders while the database refuses every query."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client

HEADER = '<header class="site-header">'
HOME = 'href="/" data-way-home'


@pytest.fixture(autouse=True)
def debug_off(settings):
    settings.DEBUG = False


def back_to(url: str) -> str:
    return f'href="{url}" data-way-back'


def test_a_missing_page_has_the_site_header_and_the_way_back(member_client):
    response = member_client.get("/no-such-page/", HTTP_REFERER="http://testserver/predictions/")
    html = response.content.decode()
    assert response.status_code == 404
    assert HEADER in html and 'aria-label="Main"' in html, "the header and its menu, as on every page"
    assert "Page not found" in html
    assert back_to("http://testserver/predictions/") in html
    assert HOME in html


def test_a_missing_page_offers_home_alone_when_the_visitor_came_from_another_site(member_client):
    html = member_client.get("/no-such-page/", HTTP_REFERER="https://elsewhere.example/").content.decode()
    assert "data-way-back" not in html
    assert HOME in html


def test_a_missing_page_has_the_header_for_a_visitor_who_is_not_logged_in(client, db):
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert HEADER in html and HOME in html
    assert 'aria-label="Main"' not in html


def test_a_page_the_members_role_does_not_open_has_the_site_header_and_the_way_back(member_client):
    response = member_client.get("/audit/", HTTP_REFERER="http://testserver/gallery/")
    html = response.content.decode()
    assert response.status_code == 403
    assert HEADER in html and 'aria-label="Main"' in html
    assert "Access denied" in html
    assert back_to("http://testserver/gallery/") in html and HOME in html


def test_a_form_sent_without_its_security_token_has_the_site_header_and_the_way_back_to_the_form(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post("/prompts/", {"name": "x"}, HTTP_REFERER="http://testserver/prompts/")
    html = response.content.decode()
    assert response.status_code == 403
    assert HEADER in html and 'aria-label="Main"' in html
    assert "The form was not sent" in html
    assert back_to("http://testserver/prompts/") in html and HOME in html


def test_the_server_error_page_has_the_site_header_and_the_way_back_while_the_database_is_down(member):
    client = Client(raise_request_exception=False)
    client.force_login(member)
    refused: list[str] = []

    def refuse(*args, **kwargs):
        refused.append("query")
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    with mock.patch.object(connection, "create_cursor", refuse):
        response = client.get("/predictions/", HTTP_REFERER="http://testserver/gallery/")
    html = response.content.decode()
    assert refused, "the page asked the database, which refused"
    assert response.status_code == 500
    assert HEADER in html and 'href="/static/deerweb/app.css"' in html
    assert "Something went wrong" in html
    assert back_to("http://testserver/gallery/") in html and HOME in html
    assert 'aria-label="Main"' not in html, "the menu needs the session, which is in the database"


def test_a_missing_page_does_not_offer_itself_as_the_way_back(member_client):
    html = member_client.get("/no-such-page/", HTTP_REFERER="http://testserver/no-such-page/").content.decode()
    assert "data-way-back" not in html
