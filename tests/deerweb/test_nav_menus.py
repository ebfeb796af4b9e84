"""The header's grouped menus, as each role receives them: every link a role had in the flat
navigation is still there, in its menu, and no role sees another's links."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

MEMBER_MENUS = {
    "Create": [("New prediction", "/predictions/new/"), ("Compare", "/predictions/compare/")],
    "Library": [("History", "/predictions/"), ("Prompts", "/prompts/"), ("Gallery", "/gallery/")],
    "Team": [("Usage", "/usage/")],
    "account": [
        ("Password", "/accounts/password/"),
        ("API tokens", "/accounts/tokens/"),
        ("Webhooks", "/webhooks/"),
        ("Notifications", "/notifications/"),
    ],
}
REVIEWER_MENUS = {**MEMBER_MENUS, "Team": [("Review", "/review/"), ("Usage", "/usage/")]}
ADMIN_MENUS = {
    **MEMBER_MENUS,
    "Team": [
        ("Review", "/review/"),
        ("Usage", "/usage/"),
        ("Team usage", "/usage/team/"),
        ("Audit", "/audit/"),
        ("Team members", "/team/"),
        ("Admin", "/admin/"),
    ],
}
MENU = re.compile(r'<details class="nav-menu[^"]*"[^>]*>\s*<summary>(.*?)</summary>(.*?)</details>', re.S)
LINK = re.compile(r'<a href="([^"]+)">([^<]+)</a>')


def menus(html: str) -> dict[str, list[tuple[str, str]]]:
    """The header's menus: name (the account menu as "account") -> its links as (label, href)."""
    header = html[html.index('<header class="site-header">') : html.index("</header>")]
    found = {}
    for summary, body in MENU.findall(header):
        name = "account" if 'class="who"' in summary else summary.strip()
        found[name] = [(label.strip(), href) for href, label in LINK.findall(body)]
    return found


@pytest.mark.parametrize(
    ("role", "expected"),
    [("member", MEMBER_MENUS), ("reviewer", REVIEWER_MENUS), ("admin_user", ADMIN_MENUS)],
)
def test_each_role_finds_its_links_in_the_menus(request, client: Client, role, expected):
    client.force_login(request.getfixturevalue(role))
    html = client.get(reverse("predictions:list")).content.decode()
    assert menus(html) == expected
    account = html[html.index('class="nav-menu-body account-menu-body"') :]
    assert 'action="/i18n/setlang/"' in account[: account.index("</details>")], "the language switch"
    assert ">Log out</button>" in account[: account.index("</details>")]


def test_the_menus_share_a_name_so_one_opens_at_a_time(member_client):
    html = member_client.get(reverse("home")).content.decode()
    assert html.count('name="site-nav" data-drop-down') == 4


def test_a_visitor_who_is_not_logged_in_has_the_language_switch_and_no_menus(client):
    html = client.get(reverse("login")).content.decode()
    assert menus(html) == {}
    assert 'action="/i18n/setlang/"' in html
