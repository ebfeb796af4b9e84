"""In a real browser: switching models swaps the fields in place, a field's message after a
swap, Compare with a live status per model, and "Run again".

Chromium through Playwright (tests/browser.py) against `live_server`, with a
real worker for the pipeline.
"""

from __future__ import annotations

import re

import pytest

from predictions.models import Prediction, Status
from tests.browser import generate, log_in, menu_link, shown_prediction_id
from tests.world import FLUX_DEV, IDEOGRAM, submit, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.services]


def mark_page(tab) -> None:
    tab.evaluate("window.__samePage = true")


def same_page(tab) -> bool:
    return tab.evaluate("window.__samePage === true")


def test_switching_the_model_swaps_its_fields_in_place_and_keeps_the_prompt(page, member):
    log_in(page, member)
    page.goto("/predictions/new/")
    mark_page(page)
    page.get_by_role("textbox", name="Prompt", exact=True).fill("a poster of a deer")
    assert page.locator("[name=num_outputs]").is_visible()

    page.get_by_label("Model", exact=True).select_option(IDEOGRAM)
    page.get_by_label("Style preset").wait_for(state="visible")

    assert same_page(page), "the page reloaded instead of swapping the fields"
    assert page.locator("[name=num_outputs]").count() == 0
    assert page.get_by_role("textbox", name="Prompt", exact=True).input_value() == "a poster of a deer"
    assert "model=ideogram-ai%2Fideogram-v3-turbo" in page.url or f"model={IDEOGRAM}" in page.url
    assert page.get_by_label("Style preset").evaluate("el => el.tagName") == "SELECT"


def test_a_field_swapped_in_shows_its_message_after_submitting(page, member):
    log_in(page, member)
    page.goto("/predictions/new/")
    page.get_by_role("textbox", name="Prompt", exact=True).fill("a deer")
    page.get_by_label("Model", exact=True).select_option(FLUX_DEV)
    guidance = page.get_by_label("Guidance", exact=True)
    guidance.fill("11")
    generate(page)

    box = page.locator(".field").filter(has=page.get_by_label("Guidance", exact=True))
    box.locator(".error").wait_for(state="visible")
    assert box.locator(".error").inner_text() == "Ensure this value is less than or equal to 10."
    assert page.get_by_label("Model", exact=True).input_value() == FLUX_DEV
    assert not Prediction.objects.exists()


def test_compare_shows_each_models_status_live_until_all_succeed(page, worker, simulator, member):
    simulator.processing_seconds = 1.5
    try:
        log_in(page, member)
        menu_link(page, "Create", "Compare")
        page.get_by_role("textbox", name="Prompt", exact=True).fill("a stag at dawn")
        for label in ("FLUX.1 [schnell]", "FLUX1.1 [pro] ·", "Recraft V3 SVG"):
            page.get_by_role("checkbox", name=re.compile("^" + re.escape(label))).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Run on all of them").click()
        mark_page(page)
        columns = page.locator("[data-live-url]")
        assert columns.count() == 3
        assert page.locator('[data-live-url] [data-prediction-status="succeeded"]').count() == 0
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-live-url] [data-prediction-status]')]
                   .filter(el => el.dataset.predictionStatus === 'succeeded').length === 3""",
            timeout=30_000,
        )
        assert same_page(page), "the statuses arrived without a reload"
        assert page.locator("[data-live-url] .gallery img").count() == 3
    finally:
        simulator.processing_seconds = 0.6


def test_run_again_opens_the_new_prediction_which_then_succeeds(page, worker, simulator, member):
    source = wait_for(submit(member, prompt="a deer in snow"), Status.SUCCEEDED)
    log_in(page, member)
    page.goto(source.get_absolute_url())
    with page.expect_navigation():
        page.get_by_role("button", name="Run again").click()
    new_id = shown_prediction_id(page)
    assert new_id != source.pk
    assert page.get_by_role("link", name=f"Prediction {source.pk}").is_visible()
    page.locator('#live [data-prediction-status="succeeded"]').wait_for(timeout=20_000)
    assert page.locator("#live [data-seed]").inner_text().isdigit()
