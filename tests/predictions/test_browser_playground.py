"""The playground in a real browser: the form beside this session's results, submitted by keyboard,
results arriving live, the cost preview following the model and num_outputs, "Use these inputs",
the phone layout, and the form without JavaScript.

Chromium through Playwright (tests/browser.py) against `live_server`, with a real worker and the
simulator. The screenshots (playground-desktop.png, playground-phone.png) are the README tour's.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import MemberQuota, Period
from predictions.models import Prediction
from tests.browser import (
    DETAIL_PATH,
    PHONE,
    WIDE,
    generate,
    log_in,
    new_context,
    newest_result_id,
    results,
    screenshot,
)
from tests.world import PRO, SCHNELL

pytestmark = [pytest.mark.browser, pytest.mark.services]


def mark_page(tab) -> None:
    tab.evaluate("window.__samePage = true")


def same_page(tab) -> bool:
    return tab.evaluate("window.__samePage === true")


def cost_shown(tab):
    return tab.locator("[data-run-cost-amount]")


def prompt_box(tab):
    return tab.get_by_role("textbox", name="Prompt", exact=True)


def wait_until_succeeded(card) -> None:
    card.locator('[data-prediction-status="succeeded"]').wait_for(timeout=20_000)


def images_loaded(card) -> list[int]:
    """The natural widths of the card's images, once each has loaded or failed."""
    images = card.locator(".result-outputs img")
    for handle in images.element_handles():
        handle.wait_for_element_state("visible")
        card.page.wait_for_function("img => img.complete", arg=handle)
    return images.evaluate_all("imgs => imgs.map(img => img.naturalWidth)")


def test_at_1366_px_a_member_submits_by_keyboard_and_watches_the_result_arrive_beside_the_kept_form(
    page, worker, simulator, member
):
    MemberQuota.objects.create(user=member, budget=Decimal("1.00"), period=Period.MONTH)
    simulator.processing_seconds = 1.5
    try:
        page.set_viewport_size(WIDE)
        log_in(page, member)
        page.goto("/predictions/new/")
        mark_page(page)
        budget = page.locator("[data-run-budget]")
        expect(cost_shown(page)).to_have_text("$0.003")
        expect(budget).to_have_text(re.compile(r"Left this month:\s+\$1.00 of \$1.00"))

        # The preview follows the model and the number of images, by the reservation's own function.
        page.get_by_label("Model", exact=True).select_option(PRO)
        expect(cost_shown(page)).to_have_text("$0.04")
        page.get_by_label("Model", exact=True).select_option(SCHNELL)
        expect(cost_shown(page)).to_have_text("$0.003")
        page.get_by_label("Num outputs", exact=True).fill("2")
        expect(cost_shown(page)).to_have_text("$0.006")

        prompt_box(page).fill("a stag in a birch forest at dawn")
        prompt_box(page).press("Control+Enter")
        expect(results(page)).to_have_count(1)

        pk = newest_result_id(page)
        prediction = Prediction.objects.get(pk=pk)
        assert prediction.input["num_outputs"] == 2
        assert prediction.estimated_cost == Decimal("0.006"), "the preview said what the reservation charged"
        card = results(page).first
        assert card.locator("[data-prediction-status]").get_attribute("data-prediction-status") != "succeeded"
        wait_until_succeeded(card)
        assert same_page(page), "the result arrived without leaving the page"
        widths = images_loaded(card)
        assert len(widths) == 2 and all(width > 0 for width in widths), widths

        # The form is as it was, ready for the next tweak; the preview shows what is left now.
        assert prompt_box(page).input_value() == "a stag in a birch forest at dawn"
        assert page.get_by_label("Num outputs", exact=True).input_value() == "2"
        expect(budget).to_have_text(re.compile(r"Left this month:\s+\$0.994 of \$1.00"))
        expect(page.locator("[data-budget-left]")).to_contain_text("$0.994")
        screenshot(page, "playground-desktop.png")

        page.reload()
        expect(results(page)).to_have_count(1)
        wait_until_succeeded(results(page).first)
        assert newest_result_id(page) == pk
    finally:
        simulator.processing_seconds = 0.6


def test_results_stack_newest_first_and_use_these_inputs_refills_the_form(page, worker, simulator, member):
    log_in(page, member)
    page.goto("/predictions/new/")
    prompt_box(page).fill("a red deer by a lake")
    page.get_by_label("Seed", exact=True).fill("1234")
    generate(page)
    first = newest_result_id(page)
    prompt_box(page).fill("a white deer in the snow")
    page.get_by_label("Seed", exact=True).fill("")
    generate(page)
    second = newest_result_id(page)
    assert second != first
    assert [int(pk) for pk in results(page).evaluate_all("cards => cards.map(c => c.dataset.predictionId)")] == [
        second,
        first,
    ]

    page.get_by_label("Model", exact=True).select_option(PRO)
    page.get_by_label("Safety tolerance").wait_for()
    with page.expect_navigation():
        results(page).nth(1).get_by_role("link", name="Use these inputs").click()

    assert page.get_by_label("Model", exact=True).input_value() == SCHNELL
    assert prompt_box(page).input_value() == "a red deer by a lake"
    assert page.get_by_label("Seed", exact=True).input_value() == "1234"
    expect(results(page)).to_have_count(2)


def test_a_refused_submission_says_why_in_the_form_and_takes_the_focus_there(page, member):
    MemberQuota.objects.create(user=member, budget=Decimal("0.01"), period=Period.MONTH)
    log_in(page, member)
    page.goto("/predictions/new/")
    mark_page(page)

    page.get_by_label("Seed", exact=True).press("Control+Enter")
    prompt_error = page.locator(".field").filter(has=prompt_box(page)).locator(".error[role=alert]")
    expect(prompt_error).to_have_text("This field is required.")
    expect(prompt_box(page)).to_be_focused()
    expect(prompt_box(page)).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Model", exact=True).select_option(PRO)
    expect(page.locator("[data-run-refused]")).to_have_text(
        "More than is left of your budget: this run would be refused."
    )
    prompt_box(page).fill("a stag on a ridge")
    prompt_box(page).press("Meta+Enter")
    alert = page.locator(".prediction-form .form-errors[role=alert]")
    expect(alert).to_contain_text("Over your budget: this prediction costs about $0.04, and $0.01 of your $0.01")
    expect(alert).to_be_focused()
    expect(prompt_error).to_have_count(0)
    assert prompt_box(page).input_value() == "a stag on a ridge"
    assert same_page(page) and results(page).count() == 0
    assert not Prediction.objects.exists()


def test_on_a_phone_the_form_stacks_above_the_results(page, worker, simulator, member):
    page.set_viewport_size(PHONE)
    log_in(page, member)
    page.goto("/predictions/new/")
    prompt_box(page).fill("a fawn asleep in the ferns")
    page.get_by_label("Num outputs", exact=True).fill("2")
    generate(page)
    card = results(page).first
    expect(card).to_be_in_viewport()
    wait_until_succeeded(card)
    images_loaded(card)

    form = page.locator("form[data-playground]").bounding_box()
    column = page.locator(".playground-results").bounding_box()
    assert form and column
    assert form["y"] + form["height"] <= column["y"], "the results come below the form"
    assert column["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "playground-phone.png", full_page=True)


def test_without_javascript_the_form_posts_redirects_and_the_playground_lists_the_result(
    browser, live_server, worker, simulator, member
):
    context = new_context(browser, live_server.url, viewport=WIDE, java_script_enabled=False)
    try:
        tab = context.new_page()
        log_in(tab, member)
        tab.goto("/predictions/new/")
        expect(cost_shown(tab)).to_have_text("$0.003")
        assert not tab.locator("#generate-shortcut").is_visible(), "no keyboard shortcut is offered without JavaScript"

        tab.get_by_label("Model", exact=True).select_option(PRO)
        with tab.expect_navigation():
            tab.get_by_role("button", name="Show this model's options").click()
        expect(cost_shown(tab)).to_have_text("$0.04")

        prompt_box(tab).fill("a stag on a ridge at dusk")
        with tab.expect_navigation():
            tab.get_by_role("button", name="Generate").click()
        match = DETAIL_PATH.search(tab.url)
        assert match, f"not on the prediction's page: {tab.url}"
        pk = int(match.group(1))

        tab.goto("/predictions/new/")
        assert newest_result_id(tab) == pk
        assert results(tab).first.get_by_role("link", name="Use these inputs").get_attribute("href") == (
            f"/predictions/new/?from={pk}"
        )
        screenshot(tab, "playground-no-js.png")
    finally:
        context.close()
