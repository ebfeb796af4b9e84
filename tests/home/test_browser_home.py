"""The home page in a real browser, per role, at 1366 px and on a 390 px phone.

Screenshots for the README's tour go to var/test-artifacts/screenshots/ (home-member.png,
home-admin.png, home-phone.png).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import LedgerEntry, LedgerKind, MemberQuota, Period, TeamSettings
from ops import health
from predictions.models import Prediction, Status
from tests.browser import PHONE, WIDE, log_in, screenshot

from ..world import add_output, finished_prediction, updated

pytestmark = [pytest.mark.browser]

COLORS = ("sienna", "steelblue", "olivedrab", "goldenrod", "slategray")


def results(owner, count: int = 5) -> list[Prediction]:
    """`count` succeeded predictions of `owner`'s, each with one 256 px output of its own colour."""
    made = []
    for i in range(count):
        prediction = finished_prediction(owner, prompt=f"a deer in the {COLORS[i % 5]} forest", outputs=0)
        add_output(prediction, size=(256, 256), color=COLORS[i % 5])
        made.append(prediction)
    return made


def running(owner, prompt: str = "a white stag at dawn") -> Prediction:
    return finished_prediction(owner, prompt=prompt, outputs=0, status=Status.PROCESSING, completed_at=None)


def spent_now(user, amount: str) -> None:
    LedgerEntry.objects.create(user=user, kind=LedgerKind.RESERVE, amount=Decimal(amount), created_at=timezone.now())


def page_width(tab) -> int:
    return tab.evaluate("document.documentElement.scrollWidth")


def test_a_member_sees_a_running_prediction_finish_and_their_latest_results(page, member):
    MemberQuota.objects.create(user=member, budget=Decimal("20"), period=Period.MONTH)
    spent_now(member, "7.5")
    made = results(member)
    stag = running(member)
    page.set_viewport_size(WIDE)
    log_in(page, member)

    spending = page.locator('[data-home="spending"]')
    assert spending.locator("[data-home-spent]").inner_text() == "$7.50"
    assert "of your $20.00 budget" in spending.inner_text()
    live = page.locator(f'[data-live-url="/predictions/{stag.pk}/live/"]')
    assert live.locator("[data-prediction-status]").inner_text() == "Processing"
    tiles = page.locator(".home-results a")
    assert [tile.get_attribute("href") for tile in tiles.all()] == [p.get_absolute_url() for p in reversed(made)]
    for image in page.locator('[data-home="results"] img').all():
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert page.locator('[data-home="queue"], [data-home="team"]').count() == 0
    screenshot(page, "home-member.png", full_page=True)

    add_output(stag, size=(256, 256), color="white")
    updated(stag, status=Status.SUCCEEDED, completed_at=timezone.now())
    live.locator('[data-prediction-status="succeeded"]').wait_for()
    assert live.locator("img").count() == 1, "the finished prediction's output shows in place"

    tiles.first.click()
    page.wait_for_url(re.compile(rf"/predictions/{made[-1].pk}/$"))


def test_a_brand_new_member_is_led_to_make_a_first_image(page, member):
    page.set_viewport_size(WIDE)
    log_in(page, member)
    first = page.locator('[data-home="first"]')
    assert first.get_by_role("heading", name="Make your first image").is_visible()
    first.get_by_role("link", name="Make your first image").click()
    page.wait_for_url(re.compile(r"/predictions/new/$"))


def test_a_reviewer_sees_the_queue_and_opens_it_from_home(page, reviewer, member, other_member):
    oldest = finished_prediction(
        member, prompt="the deer waiting longest", created_at=timezone.now().replace(year=2025)
    )
    finished_prediction(other_member, prompt="a newer deer")
    page.set_viewport_size(WIDE)
    log_in(page, reviewer)
    queue = page.locator('[data-home="queue"]')
    assert queue.locator("[data-home-queue-size]").inner_text() == "2"
    assert "the deer waiting longest" in queue.locator("[data-home-queue-oldest]").inner_text()
    queue.get_by_role("link", name="Open the review queue").click()
    page.wait_for_url(re.compile(r"/review/$"))
    page.go_back()
    page.locator("[data-home-queue-oldest]").get_by_role("link", name="the deer waiting longest").click()
    page.wait_for_url(re.compile(rf"/predictions/{oldest.pk}/$"))


def test_an_admin_sees_the_teams_month_deerapis_balance_and_health(page, admin_user, member):
    now = timezone.now()
    TeamSettings.objects.create(
        pk=1,
        team_monthly_budget=Decimal("500"),
        deerapi_checked_at=now,
        deerapi_baseline_at=now,
        deerapi_balance=Decimal("183.40"),
        deerapi_used=Decimal("61.2"),
    )
    spent_now(member, "96.25")
    health.heartbeat_record(health.SWEEP)
    results(admin_user, 3)
    finished_prediction(member, prompt="a deer to review")
    page.set_viewport_size(WIDE)
    log_in(page, admin_user)

    team = page.locator('[data-home="team"]')
    assert team.locator("[data-home-team-spent]").inner_text() == "$96.25"
    assert "of the team's $500.00 budget" in team.inner_text()
    assert team.locator("[data-home-balance] strong").inner_text() == "$183.40"
    assert team.locator('[data-home-health="ok"]').inner_text() == "All checks pass"
    assert page.locator("[data-home-queue-size]").inner_text() == "4", "the admin's own results wait too"
    screenshot(page, "home-admin.png", full_page=True)

    TeamSettings.objects.filter(pk=1).update(deerapi_balance_empty_since=now)
    page.reload()
    assert team.locator('[data-home-health="warning"]').is_visible()
    assert "DeerAPI's balance is used up" in team.inner_text()


def test_on_a_phone_the_home_page_fits_the_screen(page, member):
    results(member, 4)
    running(member)
    page.set_viewport_size(PHONE)
    log_in(page, member)
    for name in ("spending", "running", "results"):
        box = page.locator(f'[data-home="{name}"]').bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], name
    assert page_width(page) <= PHONE["width"]
    for image in page.locator('[data-home="results"] img').all():
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "home-phone.png", full_page=True)
