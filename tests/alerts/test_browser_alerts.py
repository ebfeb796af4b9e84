"""In a real browser, with a real worker: a member's submission reaches 80 % of their budget, and
they are told once: one notification (the header's count, the list), one email (the worker's file
backend), one post to the team's Slack-compatible webhook (a local receiver). Spending more in the
same period tells nothing new; the next period tells again. The usage pages forecast the period's end.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db.models import F

from alerts import services as alerts
from billing import services as billing
from billing.models import BudgetAlert, LedgerEntry, LedgerKind, MemberQuota, Period, TeamSettings
from notifications.models import Notification
from predictions.models import Prediction, Status
from tests.browser import (
    DESKTOP,
    PHONE,
    WIDE,
    account_menu_open,
    choose_pro,
    log_in,
    open_form,
    open_new_prediction,
    screenshot,
    submit_prompt,
)
from tests.world import PRO, SCHNELL, mail_clear, mail_sent, wait_for, wait_until

pytestmark = [pytest.mark.browser]


def header_count(page) -> str:
    """What the badge beside the member's name in the header says, as read aloud ("" without one)."""
    badge = page.locator(".account-menu > summary [data-notifications-badge]")
    if not badge.count():
        return ""
    assert badge.is_visible()
    return (badge.locator(".visually-hidden").text_content() or "").strip()


def submit_pro(page, prompt: str) -> Prediction:
    open_new_prediction(page)
    choose_pro(page)
    prediction = Prediction.objects.get(pk=submit_prompt(page, prompt))
    return wait_for(prediction, Status.SUCCEEDED)


@pytest.mark.services
def test_a_member_reaching_80_percent_is_told_once_per_period(
    page, worker, simulator, member, admin_user, webhook_receiver
):
    mail_clear()
    member.email = "alice@example.com"
    member.save()
    MemberQuota.objects.create(user=member, budget=Decimal("0.05"), period=Period.MONTH)
    alerts.slack_url_set(webhook_receiver.url("/services/T01/B01/not-for-logs"), by=admin_user)
    log_in(page, member)
    assert header_count(page) == ""

    submit_pro(page, "a white stag in a birch forest")  # $0.04 of $0.05: 80 %

    (post,) = webhook_receiver.wait_for(1)
    assert b"reached 80% of their budget" in post.body
    wait_until(lambda: len(mail_sent()) == 1, what="the alert's email")
    (message,) = mail_sent()
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "DeerWeb: your spending reached 80% of your budget"
    page.reload()
    assert header_count(page) == "1 unread notification"
    assert page.locator(".account-menu > summary [data-notifications-badge] [aria-hidden]").inner_text() == "1"
    account_menu_open(page)
    page.get_by_role("link", name="Notifications 1 unread notification").click()
    page.wait_for_url(re.compile(r"/notifications/$"))
    (item,) = page.locator("[data-notification]").all()
    assert "Your spending reached 80% of your budget: $0.04 of $0.05 committed" in item.inner_text()
    page.set_viewport_size(WIDE)
    screenshot(page, "notifications.png")
    page.set_viewport_size(PHONE)
    assert page.locator("[data-notification]").is_visible()
    screenshot(page, "notifications-phone.png")
    page.set_viewport_size(DESKTOP)

    # More spending in the same period: 86 %, past 80 % already.
    open_form(page, SCHNELL, "a deer at dusk")
    wait_for(Prediction.objects.get(pk=submit_prompt(page, "a deer at dusk")), Status.SUCCEEDED)
    assert BudgetAlert.objects.count() == 1
    assert Notification.objects.filter(recipient=member).count() == 1

    page.goto("/notifications/")
    page.get_by_role("button", name="Mark as read").click()
    page.wait_for_url(re.compile(r"/notifications/$"))
    assert header_count(page) == ""

    # A month later: what was spent and alerted belongs to the last period.
    LedgerEntry.objects.filter(user=member).update(created_at=F("created_at") - timedelta(days=31))
    last_month = billing.period_bounds(Period.MONTH, billing.timezone.now() - timedelta(days=31))
    assert last_month is not None
    BudgetAlert.objects.update(period_start=last_month[0], period_end=last_month[1])

    submit_pro(page, "a stag in the snow")  # 80 % of the new period

    assert len(webhook_receiver.wait_for(2)) == 2
    wait_until(lambda: len(mail_sent()) == 2, what="the next period's email")
    page.reload()
    assert header_count(page) == "1 unread notification"
    assert len(mail_sent()) == 2 and len(webhook_receiver.received) == 2, "one each per period"
    assert b"not-for-logs" not in worker.log_path.read_bytes()


def test_the_usage_pages_forecast_the_end_of_the_period(page, member, admin_user):
    # The 20th of next month, noon: the browser's cookies outlive it (they follow the server's clock).
    today = datetime.now(UTC)
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=20, hour=12, minute=0, second=0)
    with time_machine.travel(next_month, tick=True):
        MemberQuota.objects.create(user=member, budget=Decimal("0.05"), period=Period.MONTH)
        team = TeamSettings.load()
        team.team_monthly_budget = Decimal("10")
        team.save()
        start = next_month.replace(day=1, hour=0)
        LedgerEntry.objects.create(
            user=member, kind=LedgerKind.RESERVE, amount=Decimal("0.04"), model_id=PRO, created_at=start
        )
        last_day = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        days = last_day.day
        # $0.04 in 19.5 of `days` days.
        projected = (Decimal("0.04") * Decimal(days) / Decimal("19.5")).quantize(Decimal("0.01"))
        month_day = f"{last_day:%B} {last_day.day}"

        log_in(page, member)
        page.goto("/usage/")
        forecast = page.locator("[data-member-forecast]").inner_text()
        assert forecast == f"At this pace: ${projected} by {month_day}, over the $0.05 budget."
        page.set_viewport_size(WIDE)
        screenshot(page, "usage-forecast.png")
        page.set_viewport_size(PHONE)
        assert page.locator("[data-member-forecast]").is_visible()
        screenshot(page, "usage-forecast-phone.png")

        log_in(page, admin_user)
        page.goto("/usage/team/")
        assert page.locator("[data-team-forecast]").inner_text() == (
            f"At this pace: ${projected} by {month_day}, within the $10.00 budget."
        )
        row = page.locator('tr[data-member="alice"] [data-forecast-cell]')
        assert row.inner_text() == f"At this pace: ${projected} by {month_day}, over the $0.05 budget."
