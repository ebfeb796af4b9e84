"""In a real browser: a member sees their budget in the header, spends it, and reads on the
form why the next prediction is refused; then finds the spending on their usage page. An admin
opens a member's limits in place on the team usage page and changes them.

Chromium through Playwright (tests/browser.py) against `live_server`, with a
real worker and the simulator for the prediction that goes through.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from billing.models import MemberQuota, Period
from predictions.models import Prediction, Status
from tests.browser import choose_pro, log_in, menu_link, open_new_prediction, screenshot, submit_prompt
from tests.world import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.services]


def test_a_member_who_spent_their_budget_reads_why_on_the_form(page, worker, simulator, member):
    MemberQuota.objects.create(user=member, budget=Decimal("0.05"), period=Period.MONTH)
    log_in(page, member)
    budget = page.locator("[data-budget-left]")
    assert re.sub(r"\s+", " ", budget.inner_text()).strip() == "Left this month: $0.05 of $0.05"

    open_new_prediction(page)
    choose_pro(page)
    pk = submit_prompt(page, "a white stag in a birch forest")
    wait_for(Prediction.objects.get(pk=pk), Status.SUCCEEDED)

    open_new_prediction(page)
    assert "$0.01" in budget.inner_text()
    choose_pro(page)
    page.get_by_role("textbox", name="Prompt", exact=True).fill("another white stag")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_load_state()

    alert = page.locator(".prediction-form [role=alert]").filter(has_text="Over your budget")
    alert.wait_for(state="visible")
    message = alert.inner_text()
    assert message.startswith(
        "Over your budget: this prediction costs about $0.04, and $0.01 of your $0.05 "
        "monthly budget is left. It starts again on "
    )
    assert re.search(r"/predictions/new/(\?|$)", page.url), "the member stays on the form"
    assert page.get_by_role("textbox", name="Prompt", exact=True).input_value() == "another white stag"
    assert Prediction.objects.filter(owner=member).count() == 1, "nothing was saved or sent"
    assert simulator.stats.creates == 1

    menu_link(page, "Team", "Usage")
    page.wait_for_url(re.compile(r"/usage/$"))
    assert page.get_by_role("img", name="Spending by day").is_visible()
    assert page.locator("[data-budget-remaining]").inner_text() == "$0.01"
    screenshot(page, "usage.png", full_page=True)


def test_an_admin_opens_a_members_limits_in_place_and_changes_them(page, admin_user, member):
    MemberQuota.objects.create(user=member, budget=Decimal("1"), period=Period.MONTH)
    log_in(page, admin_user)
    page.goto("/usage/team/")
    row = page.locator('tr[data-member="alice"]')
    link = row.get_by_role("link", name="Edit limits of alice")
    assert link.get_attribute("aria-expanded") == "false"
    assert row.locator("form").count() == 0, "no form until it is asked for"

    link.click()
    budget = row.get_by_label("Budget per period (USD)")
    budget.wait_for(state="visible")
    assert link.get_attribute("aria-expanded") == "true"
    assert page.url.endswith("/usage/team/"), "the form opened in the member's row"
    assert budget.evaluate("field => field === document.activeElement"), "the first field has the focus"
    budget.fill("7.50")
    row.get_by_role("combobox", name=re.compile(r"^Period")).select_option("week")
    row.get_by_role("button", name="Save limits").click()

    page.wait_for_url(re.compile(r"/usage/team/$"))
    assert "Limits of alice saved." in page.locator(".messages").inner_text()
    assert "$7.50 (Weekly)" in page.locator('tr[data-member="alice"]').inner_text()
    quota = MemberQuota.objects.get(user=member)
    assert (quota.budget, quota.period) == (Decimal("7.5"), Period.WEEK)
