"""The header in a real browser: one row at 1366 px for an admin (the most links), in English
and in Chinese; a Menu button on a 390 px phone that opens onto every link.

Chromium through Playwright (tests/browser.py) against `live_server`. Screenshots
of both widths go to var/test-artifacts/screenshots/ (header-*.png).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from billing.models import MemberQuota, Period
from tests.browser import PHONE, WIDE, log_in, new_context, screenshot

pytestmark = [pytest.mark.browser]

ADMIN_LINKS = [
    "New prediction",
    "History",
    "Compare",
    "Prompts",
    "Gallery",
    "Review",
    "Audit",
    "Team",
    "Usage",
    "Admin",
]
# The vertical extent of everything in the header: the brand, each link, each tool.
HEADER_ITEMS = """() => [...document.querySelectorAll(
  ".site-header .brand, .site-header nav a, .header-tools > *, .site-menu > summary"
)].filter(el => el.checkVisibility()).map(el => {
  const box = el.getBoundingClientRect();
  return {top: box.top, bottom: box.bottom};
})"""


@pytest.fixture
def admin(admin_user):
    """An admin with a monthly budget, so the header shows what is left of it too."""
    MemberQuota.objects.create(user=admin_user, budget=Decimal("1250"), period=Period.MONTH)
    return admin_user


def on_one_row(tab) -> bool:
    """Every item of the header crosses one horizontal line."""
    boxes = tab.evaluate(HEADER_ITEMS)
    return max(box["top"] for box in boxes) < min(box["bottom"] for box in boxes)


def account_menu(tab):
    """The name in the header, which opens the account menu."""
    return tab.locator(".site-header summary", has_text="dora")


def page_width(tab) -> int:
    return tab.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_admins_header_fits_on_one_row_at_1366_pixels(page, live_server, admin, language):
    failed: list[str] = []
    page.on(
        "response",
        lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    page.set_viewport_size(WIDE)
    log_in(page, admin)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto("/predictions/")
    assert page.locator("html").get_attribute("lang") == language

    screenshot(page, f"header-1366-{language}.png")
    nav = page.get_by_role("navigation", name=re.compile("Main|主导航|主菜单"))
    assert nav.get_by_role("link").count() == len(ADMIN_LINKS)
    assert all(link.is_visible() for link in nav.get_by_role("link").all())
    assert page.locator("[data-budget-left] .budget-of").is_visible(), "what is left, and of which budget"
    assert not page.locator(".site-menu > summary").is_visible(), "no Menu button on a wide screen"
    assert on_one_row(page), page.evaluate(HEADER_ITEMS)
    assert page.locator(".site-header").bounding_box()["height"] < 70
    assert page_width(page) <= WIDE["width"]
    assert failed == [], "every request of the page (the icon too) is answered"


def test_the_account_menu_drops_down_under_the_name_at_1366_pixels(page, admin):
    page.set_viewport_size(WIDE)
    log_in(page, admin)
    password = page.get_by_role("link", name="Password")
    assert not password.is_visible()

    account_menu(page).click()
    assert password.is_visible()
    assert on_one_row(page), "the open menu lies over the page, the header keeps its row"
    page.locator("main h1").click()
    assert not password.is_visible(), "a click elsewhere closes it"

    account_menu(page).click()
    password.click()
    page.wait_for_url(re.compile(r"/accounts/password/$"))


def test_on_a_phone_the_menu_opens_onto_every_link(page, admin):
    page.set_viewport_size(PHONE)
    log_in(page, admin)
    menu = page.locator("summary", has_text="Menu")  # a disclosure button, by the browser's own role
    team = page.get_by_role("navigation", name="Main").get_by_role("link", name="Team")
    assert menu.is_visible()
    assert not team.is_visible(), "the links wait behind the Menu button"
    assert on_one_row(page), "the brand and the Menu button share one row"
    assert page_width(page) <= PHONE["width"]
    screenshot(page, "header-390-closed.png")

    menu.click()
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    assert [link.inner_text() for link in links.all()] == ADMIN_LINKS
    for link in links.all():
        box = link.bounding_box()
        assert link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["height"] >= 40, "a finger-sized target"
    assert page.get_by_label("Language").is_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot(page, "header-390-open.png")

    team.click()
    page.wait_for_url(re.compile(r"/team/$"))
    assert not page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").is_visible()
    menu.click()
    account_menu(page).click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def test_on_a_phone_without_javascript_the_links_show_and_the_menu_still_folds(browser, live_server, admin):
    context = new_context(browser, live_server.url, viewport=PHONE, java_script_enabled=False)
    try:
        tab = context.new_page()
        log_in(tab, admin)
        team = tab.get_by_role("navigation", name="Main").get_by_role("link", name="Team")
        assert team.is_visible(), "without JS the menu comes open"
        tab.locator("summary", has_text="Menu").click()
        assert not team.is_visible()
        tab.locator("summary", has_text="Menu").click()
        team.click()
        tab.wait_for_url(re.compile(r"/team/$"))
    finally:
        context.close()
