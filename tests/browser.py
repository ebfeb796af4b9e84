"""Chromium for the browser tests, and the steps a person takes in it.

Debian's Chromium (/usr/bin/chromium, or DEERWEB_CHROMIUM) driven by Playwright's sync API. The
`browser` and `page` fixtures in conftest.py use `launch` and `new_context`; the tests use the steps.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Locator, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from predictions.models import User

from .world import PASSWORD, PRO, ROOT, unavailable

CHROMIUM = os.environ.get("DEERWEB_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 900}
WIDE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
DETAIL_PATH = re.compile(r"/predictions/(\d+)/$")
HOME_PATH = re.compile(r"^https?://[^/]+/$")


@contextmanager
def launch() -> Iterator[Browser]:
    """A headless Chromium, for as long as the block lasts."""
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    # Playwright's sync API keeps an event loop running in this thread; Django would
    # then refuse the test body's (and pytest-django's) synchronous DB access.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            try:
                chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            except PlaywrightError as exc:
                unavailable(f"Chromium at {CHROMIUM} did not start: {exc.message.splitlines()[0]}")
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def new_context(browser: Browser, base_url: str, *, viewport: dict = DESKTOP, **options: Any) -> BrowserContext:
    """A browser profile of its own (no cookies yet) at `base_url`, in English, with the suite's timeout."""
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="en-US", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def screenshot(tab: Page, name: str, *, full_page: bool = False) -> None:
    """Keep what the tab shows in var/test-artifacts/screenshots/`name`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


# --- Steps a person takes ---------------------------------------------------------------------


def log_in(page: Page, user: User | str, password: str = PASSWORD) -> None:
    """Through the login form, by its labels, as a person would: as `user` (or the user of that name)."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user if isinstance(user, str) else user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(HOME_PATH)


def menu_link(page: Page, menu: str, link: str) -> None:
    """Follow `link` of the header's `menu` (Create, Library, Team), as a person would: on a
    narrow screen "Menu" first, then the menu's name, then the link."""
    nav = page.get_by_role("navigation", name="Main")
    if not nav.is_visible():
        page.locator(".site-menu > summary").click()
    target = nav.get_by_role("link", name=link, exact=True)
    if not target.is_visible():
        nav.locator("summary", has_text=menu).click()
    target.click()


def account_menu_open(page: Page) -> None:
    """Open the account menu: the member's name in the header (after "Menu" on a narrow screen)."""
    if not page.locator(".account-menu > summary").is_visible():
        page.locator(".site-menu > summary").click()
    page.locator(".account-menu > summary").click()


def open_history(page: Page) -> None:
    menu_link(page, "Library", "History")
    page.wait_for_url(re.compile(r"/predictions/$"))


def language_choose(page: Page, label: str) -> None:
    """Switch the site's language in the account menu (the page reloads in it)."""
    account_menu_open(page)
    with page.expect_navigation():
        page.get_by_label("Language").select_option(label=label)


def open_new_prediction(page: Page) -> None:
    menu_link(page, "Create", "New prediction")
    page.wait_for_url(re.compile(r"/predictions/new/$"))


def open_form(page: Page, model: str, prompt: str = "a deer") -> None:
    """The form of `model`, by its address, with `prompt` typed in."""
    page.goto(f"/predictions/new/?model={model}")
    page.get_by_role("textbox", name="Prompt", exact=True).fill(prompt)


def choose_pro(tab: Page) -> None:
    """Pick FLUX1.1 [pro] ($0.04 an image); its own fields appear (in place, or after a reload without JS)."""
    tab.get_by_label("Model", exact=True).select_option(PRO)
    tab.locator("[name=safety_tolerance]").wait_for(state="visible")


def generate(page: Page) -> None:
    """Press Generate and wait for the playground's answer: the new result at the top of the
    results, or the form's messages, while the page stays. (Without JavaScript the form posts
    and the browser follows the redirect, as a plain form does.)"""
    page.get_by_role("button", name="Generate").click()
    # playground.js marks the form busy from the click until the answer is shown.
    page.wait_for_function("() => !document.querySelector('form[data-playground][aria-busy]')")


def results(page: Page) -> Locator:
    """The playground's results, newest first."""
    return page.locator("[data-results] > li")


def newest_result_id(page: Page) -> int:
    """The id of the prediction at the top of the playground's results."""
    return int(results(page).first.get_attribute("data-prediction-id") or "")


def submit_prompt(page: Page, prompt: str) -> int:
    """Fill the prompt, press Generate, open the new result's page from the playground; returns its id."""
    page.get_by_role("textbox", name="Prompt", exact=True).fill(prompt)
    before = results(page).count()
    generate(page)
    assert results(page).count() == before + 1, "no new result in the playground"
    pk = newest_result_id(page)
    results(page).first.get_by_role("link", name=f"Prediction {pk}").click()
    page.wait_for_url(DETAIL_PATH)
    return pk


def shown_prediction_id(page: Page) -> int:
    """The id of the prediction whose detail page the tab shows."""
    match = DETAIL_PATH.search(page.url)
    assert match, f"not a prediction's page: {page.url}"
    return int(match.group(1))
