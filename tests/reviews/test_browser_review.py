"""A reviewer working through the queue with the keyboard, and a member reading why an image was rejected.

Chromium through Playwright against `live_server`, with the browser fixtures and steps of tests/browser.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from predictions.models import Prediction, ReviewState
from reviews import services as reviews
from tests.browser import log_in, menu_link, screenshot
from tests.world import finished_prediction

pytestmark = [pytest.mark.browser, pytest.mark.services]


def focused_card(tab) -> int | None:
    value = tab.evaluate("() => document.activeElement && document.activeElement.dataset.reviewId")
    return int(value) if value else None


def cards(tab) -> list[int]:
    return [int(v) for v in tab.locator("[data-review-id]").evaluate_all("els => els.map(e => e.dataset.reviewId)")]


def state(prediction: Prediction) -> tuple[str, str]:
    prediction.refresh_from_db()
    return prediction.review_state, prediction.review_reason


def test_a_reviewer_works_through_the_queue_with_the_keyboard(page, member, other_member, reviewer):
    start = timezone.now() - timedelta(hours=1)
    first, second, third, fourth, fifth = (
        finished_prediction(owner, prompt=f"deer number {i}", created_at=start + timedelta(minutes=i))
        for i, owner in enumerate((member, other_member, member, other_member, member))
    )
    log_in(page, reviewer)
    menu_link(page, "Team", "Review")
    page.wait_for_url(re.compile(r"/review/$"))
    page.evaluate("() => { window.__noReload = true; }")
    assert cards(page) == [first.pk, second.pk, third.pk, fourth.pk, fifth.pk], "oldest first"
    assert page.locator("[data-review-waiting]").inner_text() == "5"
    screenshot(page, "review-queue.png", full_page=True)

    # a: approve the card in focus (the first one has focus on arrival).
    page.wait_for_function("() => document.activeElement.dataset.reviewId !== undefined")
    assert focused_card(page) == first.pk
    page.keyboard.press("a")
    page.wait_for_function("id => !document.querySelector(`[data-review-id='${id}']`)", arg=first.pk)
    assert state(first)[0] == ReviewState.APPROVED
    assert focused_card(page) == second.pk, "focus moves on to the next card"
    assert page.locator("[data-review-status]").inner_text() == "Approved 1 prediction."

    # Arrow right, then r: the reason dialog; pick the second listed reason, add details, Enter.
    page.keyboard.press("ArrowRight")
    assert focused_card(page) == third.pk
    page.keyboard.press("r")
    dialog = page.get_by_role("dialog", name="Why reject?")
    dialog.wait_for(state="visible")
    page.keyboard.press("ArrowDown")
    assert dialog.get_by_label("Does not match the prompt").is_checked()
    page.keyboard.press("Tab")
    page.keyboard.type("the deer has no antlers")
    page.keyboard.press("Enter")
    page.wait_for_function("id => !document.querySelector(`[data-review-id='${id}']`)", arg=third.pk)
    assert state(third) == (ReviewState.REJECTED, "Does not match the prompt — the deer has no antlers")
    assert not dialog.is_visible()

    # r then "Other" with no words: the dialog asks for them and nothing is decided; Escape backs out.
    page.keyboard.press("ArrowLeft")
    assert focused_card(page) == second.pk
    page.keyboard.press("r")
    dialog.wait_for(state="visible")
    dialog.get_by_label("Other (write it below)").check()
    dialog.get_by_role("button", name="Reject").click()
    assert dialog.get_by_role("alert").inner_text() == "Write the reason when you choose “Other”."
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert state(second)[0] == ReviewState.PENDING

    # x selects; with two selected, "Reject selected" asks once for both.
    page.locator(f"[data-review-id='{second.pk}']").focus()
    page.keyboard.press("x")
    page.keyboard.press("ArrowRight")
    assert focused_card(page) == fourth.pk
    page.keyboard.press("x")
    assert page.locator("[data-selected-count]").inner_text() == "2 selected"
    page.get_by_role("button", name="Reject selected").click()
    dialog.wait_for(state="visible")
    assert dialog.locator("[data-reject-target]").inner_text() == "The 2 selected predictions"
    dialog.get_by_label("Duplicate of another image").check()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('[data-review-id]').length === 1")
    assert state(second) == state(fourth) == (ReviewState.REJECTED, "Duplicate of another image")

    # The last one, by keyboard again; then the page says it is done, without ever reloading.
    page.locator(f"[data-review-id='{fifth.pk}']").focus()
    page.keyboard.press("a")
    page.locator("[data-review-page-done]").wait_for(state="visible")
    assert state(fifth)[0] == ReviewState.APPROVED
    assert page.locator("[data-review-waiting]").inner_text() == "0"
    assert page.evaluate("() => window.__noReload === true"), "the queue reloaded instead of updating"
    assert AuditEntry.objects.filter(actor=reviewer).count() == 5


def test_a_member_reads_why_their_prediction_was_rejected(page, member, other_member, reviewer):
    rejected = finished_prediction(member, prompt="a deer with three antlers")
    reviews.review_reject(rejected, by=reviewer, reason=reviews.reject_reason("guidelines", "no weapons"))
    shared = finished_prediction(other_member, prompt="a heron at dawn", review_state=ReviewState.APPROVED)

    log_in(page, member)
    page.get_by_role("link", name="a deer with three antlers").click()
    page.wait_for_url(re.compile(rf"/predictions/{rejected.pk}/$"))

    notice = page.locator("[data-rejection]")
    notice.wait_for(state="visible")
    assert page.locator("[data-review-state]").inner_text() == "Rejected"
    assert page.locator("[data-rejection-reason]").inner_text() == "Against the team's guidelines — no weapons"
    assert "not shown in the team gallery" in notice.inner_text()
    screenshot(page, "rejected-prediction.png", full_page=True)
    image = page.locator("#live img").first
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())

    menu_link(page, "Library", "Gallery")
    page.wait_for_url(re.compile(r"/gallery/$"))
    assert page.locator(f"a[href='/gallery/{shared.pk}/']").count() == 1
    assert page.locator(f"a[href='/gallery/{rejected.pk}/']").count() == 0
