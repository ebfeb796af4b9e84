"""The site's icon: an SVG every page links to, and /favicon.ico for browsers that ask anyway."""

from __future__ import annotations

from xml.etree import ElementTree

from django.contrib.staticfiles import finders

ICON_LINK = '<link rel="icon" href="/static/deerweb/favicon.svg" type="image/svg+xml">'


def test_favicon_ico_sends_the_browser_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/deerweb/favicon.svg"


def test_the_icon_is_an_svg_image():
    path = finders.find("deerweb/favicon.svg")
    assert path, "static/deerweb/favicon.svg"
    root = ElementTree.parse(path).getroot()  # noqa: S314 - our own file
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 32 32"


def test_the_login_page_a_members_page_and_the_admin_link_the_icon(client, member, admin_user):
    assert ICON_LINK in client.get("/accounts/login/").content.decode()
    client.force_login(member)
    assert ICON_LINK in client.get("/predictions/").content.decode()
    client.force_login(admin_user)
    assert ICON_LINK in client.get("/admin/").content.decode()
