"""The header in a real browser: a few grouped menus (Create, Library, Team, the account) on one
row at 1366 px for an admin (the most links), in English and in Chinese; menus that open by
mouse and keyboard, one at a time, and close on Escape or a click elsewhere; a Menu button on a
390 px phone that opens onto the same menus; every menu working without JavaScript.

Chromium through Playwright (tests/browser.py) against `live_server`. Screenshots go to
var/test-artifacts/screenshots/ (header-*.png, nav-menus.png).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from billing.models import MemberQuota, Period
from tests.browser import PHONE, WIDE, account_menu_open, log_in, menu_link, new_context, screenshot

pytestmark = [pytest.mark.browser]

# An admin's menus, in order, and where each link leads.
ADMIN_MENUS = {
    "Create": [("New prediction", "/predictions/new/"), ("Compare", "/predictions/compare/")],
    "Library": [("History", "/predictions/"), ("Prompts", "/prompts/"), ("Gallery", "/gallery/")],
    "Team": [
        ("Review", "/review/"),
        ("Usage", "/usage/"),
        ("Team usage", "/usage/team/"),
        ("Audit", "/audit/"),
        ("Team members", "/team/"),
        ("Admin", "/admin/"),
    ],
}
ACCOUNT_LINKS = [("Password", "/accounts/password/"), ("API tokens", "/accounts/tokens/"), ("Webhooks", "/webhooks/")]
# The vertical extent of everything in the header: the brand, each menu's name, each tool.
HEADER_ITEMS = """() => [...document.querySelectorAll(
  ".site-header .brand, .site-header nav > details > summary, .header-tools > *, .site-menu > summary"
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


def menu(tab, name: str):
    """A menu of the header, by the name on its summary."""
    return tab.locator(".site-header details.nav-menu", has=tab.locator("> summary", has_text=name))


def is_open(tab, name: str) -> bool:
    return menu(tab, name).evaluate("details => details.open")


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
    assert nav.locator("> details > summary").count() == len(ADMIN_MENUS)
    assert all(summary.is_visible() for summary in nav.locator("> details > summary").all())
    links = nav.locator("a")
    assert links.count() == sum(len(links) for links in ADMIN_MENUS.values())
    assert not any(link.is_visible() for link in links.all()), "the links wait in their menus"
    assert page.locator("[data-budget-left] .budget-of").is_visible(), "what is left, and of which budget"
    assert not page.locator(".site-menu > summary").is_visible(), "no Menu button on a wide screen"
    assert on_one_row(page), page.evaluate(HEADER_ITEMS)
    assert page.locator(".site-header").bounding_box()["height"] < 70
    assert page_width(page) <= WIDE["width"]
    assert failed == [], "every request of the page (the icon too) is answered"


def test_every_link_of_an_admin_is_one_menu_away_at_1366_pixels(page, admin):
    page.set_viewport_size(WIDE)
    log_in(page, admin)
    for name, links in ADMIN_MENUS.items():
        for label, path in links:
            menu_link(page, name, label)
            page.wait_for_url(re.compile(re.escape(path) + "$"))
    page.go_back()  # from the admin site, which has a header of its own
    for label, path in ACCOUNT_LINKS:
        account_menu_open(page)
        page.get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_menus_open_one_at_a_time_and_close_on_escape_or_a_click_elsewhere(page, admin):
    page.set_viewport_size(WIDE)
    log_in(page, admin)
    team_members = page.get_by_role("link", name="Team members")
    menu(page, "Team").locator("> summary").click()
    assert team_members.is_visible()
    assert on_one_row(page), "the open menu lies over the page, the header keeps its row"
    screenshot(page, "nav-menus.png")

    menu(page, "Library").locator("> summary").click()
    assert is_open(page, "Library") and not is_open(page, "Team"), "opening one closes the other"
    assert page.get_by_role("link", name="Gallery").is_visible() and not team_members.is_visible()

    page.keyboard.press("Escape")
    assert not is_open(page, "Library")
    assert page.evaluate("document.activeElement.textContent").strip() == "Library", "the focus goes back"

    page.locator(".account-menu > summary").click()
    assert page.get_by_role("link", name="Password").is_visible()
    assert page.get_by_label("Language").is_visible(), "the language switch is in the account menu"
    page.locator("main h1").click()
    assert not page.get_by_role("link", name="Password").is_visible(), "a click elsewhere closes it"


def test_the_menus_work_by_keyboard(page, admin):
    page.set_viewport_size(WIDE)
    log_in(page, admin)
    page.locator(".brand").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Create"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Team"
    page.keyboard.press("Enter")
    assert is_open(page, "Team")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Review"
    page.keyboard.press("Escape")
    assert not is_open(page, "Team")
    page.keyboard.press("Enter")
    for _ in range(5):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Team members"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/team/$"))


def test_on_a_phone_the_menus_work_by_keyboard_too(page, admin):
    page.set_viewport_size(PHONE)
    log_in(page, admin)
    page.locator(".brand").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Menu"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Create"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Compare"
    page.keyboard.press("Escape")
    assert not is_open(page, "Create") and menu(page, "Create").is_visible(), "Escape closes the inner menu first"
    page.keyboard.press("Escape")
    assert not menu(page, "Create").is_visible(), "then the Menu"
    assert page.evaluate("document.activeElement.textContent").strip() == "Menu"


def test_on_a_phone_the_menu_opens_onto_the_grouped_menus(page, admin):
    page.set_viewport_size(PHONE)
    log_in(page, admin)
    toggle = page.locator("summary", has_text="Menu")  # a disclosure button, by the browser's own role
    assert toggle.is_visible()
    assert not menu(page, "Create").is_visible(), "the menus wait behind the Menu button"
    assert on_one_row(page), "the brand and the Menu button share one row"
    assert page_width(page) <= PHONE["width"]
    screenshot(page, "header-390-closed.png")

    toggle.click()
    for name, links in ADMIN_MENUS.items():
        summary = menu(page, name).locator("> summary")
        assert summary.is_visible() and summary.bounding_box()["height"] >= 40, "a finger-sized target"
        summary.click()
        for label, _path in links:
            link = menu(page, name).get_by_role("link", name=label, exact=True)
            box = link.bounding_box()
            assert link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            assert box["height"] >= 40, "a finger-sized target"
    assert page_width(page) <= PHONE["width"]
    screenshot(page, "header-390-open.png")

    menu(page, "Team").get_by_role("link", name="Team members").click()
    page.wait_for_url(re.compile(r"/team/$"))
    assert not menu(page, "Team").is_visible(), "a new page starts with the Menu closed"
    account_menu_open(page)
    assert page.get_by_label("Language").is_visible()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def test_without_javascript_every_menu_still_opens(browser, live_server, admin):
    for viewport in (WIDE, PHONE):
        context = new_context(browser, live_server.url, viewport=viewport, java_script_enabled=False)
        try:
            tab = context.new_page()
            log_in(tab, admin)
            assert menu(tab, "Team").is_visible(), "without JS the Menu comes open"
            team_members = tab.get_by_role("link", name="Team members")
            assert not team_members.is_visible()
            menu(tab, "Library").locator("> summary").click()
            menu(tab, "Team").locator("> summary").click()
            assert team_members.is_visible()
            assert not is_open(tab, "Library"), "one open at a time, by the menus' shared name"
            if viewport is PHONE:
                tab.locator("summary", has_text="Menu").click()
                assert not team_members.is_visible(), "the Menu still folds"
                tab.locator("summary", has_text="Menu").click()
            team_members.click()
            tab.wait_for_url(re.compile(r"/team/$"))
            tab.locator(".account-menu > summary").click()
            tab.get_by_label("Language").select_option("zh-hans")
            tab.get_by_role("button", name="Go").click()
            tab.wait_for_url(re.compile(r"/team/$"))
            assert tab.locator("html").get_attribute("lang") == "zh-hans"
        finally:
            context.close()
