"""In a real browser: a member opens API tokens from the account menu, makes a read-only token,
sees it once to copy, finds only its prefix on the list afterwards (going back included), and
revokes it.

Chromium through Playwright (tests/browser.py) against `live_server`. Screenshots go to
var/test-artifacts/screenshots/ (api-token-*.png).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from accounts.models import ApiToken
from accounts.tokens import token_authenticate, token_create
from tests.browser import PHONE, log_in, screenshot

pytestmark = [pytest.mark.browser]


def test_a_member_makes_a_token_sees_it_once_and_revokes_it(page, member):
    log_in(page, member)
    page.locator(".site-header summary", has_text="alice").click()
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url(re.compile(r"/accounts/tokens/$"))
    assert page.get_by_text("No tokens yet.").is_visible()

    page.get_by_label("Name").fill("laptop script")
    page.get_by_label("Expires").select_option(label="In 30 days")
    page.get_by_label("Read-only").check()
    page.get_by_role("button", name="Create token").click()
    page.get_by_role("heading", name="Token “laptop script” created").wait_for()

    assert page.get_by_text("Copy it now: it will not be shown again.").is_visible()
    box = page.get_by_label("Your new API token")
    raw = box.input_value()
    assert re.fullmatch(r"dwt_[A-Za-z0-9_-]{40}", raw)
    assert raw not in page.url
    screenshot(page, "api-token-created.png")
    token = token_authenticate(raw)
    assert token is not None and token.read_only and token.user == member

    page.get_by_role("link", name="← API tokens").click()
    page.wait_for_url(re.compile(r"/accounts/tokens/$"))
    try:
        page.go_back()
    except PlaywrightError as exc:  # Chromium will not show a no-store page again without posting anew
        assert "ERR_CACHE_MISS" in exc.message
    assert raw not in page.content(), "going back does not bring it back"
    assert ApiToken.objects.count() == 1, "nor makes another"
    screenshot(page, "api-token-back.png")
    page.goto("/accounts/tokens/")
    row = page.locator("tr", has_text="laptop script")
    assert row.get_by_text(f"{token.prefix}…").is_visible()
    assert row.get_by_text("Read-only").is_visible()
    assert raw not in page.content() and raw[12:] not in page.content()
    screenshot(page, "api-token-list.png")

    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    row.get_by_role("button", name="Revoke laptop script").click()
    assert questions == ["Revoke the token “laptop script”? Scripts using it stop working at once."]
    assert token_authenticate(raw) is not None, "dismissed: nothing sent"
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke laptop script").click()
    page.get_by_text("The token “laptop script” is revoked: it no longer works.").wait_for()
    assert page.locator("tr", has_text="laptop script").get_by_text("Revoked").is_visible()
    assert token_authenticate(raw) is None
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_on_a_phone_the_token_list_scrolls_inside_and_the_page_keeps_its_width(page, member):
    for name in ("laptop script", "nightly ci job"):
        token_create(member, name, read_only=True)
    page.set_viewport_size(PHONE)
    log_in(page, member)
    page.goto("/accounts/tokens/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.get_by_label("Name").is_visible()
    screenshot(page, "api-token-list-390.png", full_page=True)
