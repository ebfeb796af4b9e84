"""What Chromium really posts from /predictions/new/, and what reaches DeerAPI: one test per kind
of input in the catalog (image URL, uploaded image, choice, number, switch, seed, free text), the
prompt's character count, and the date filters in Simplified Chinese.

Chromium through Playwright (tests/browser.py) against `live_server`, with a real
worker sending each prediction to the simulator, which keeps the input it received.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from predictions.models import Prediction, Status
from tests.browser import DETAIL_PATH, generate, language_choose, log_in, newest_result_id, open_form, shown_prediction_id
from tests.world import FLUX2, FLUX_DEV, KONTEXT, SCHNELL, SDXL, TERMINAL, png, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.services]


def received_by_deerapi(page, simulator) -> dict[str, Any]:
    """After Generate: the playground's new result, once the worker is done: the input the simulator received."""
    prediction = Prediction.objects.get(pk=newest_result_id(page))
    prediction = wait_for(prediction, TERMINAL)
    assert prediction.status == Status.SUCCEEDED, prediction.error
    return simulator.predictions[prediction.deerapi_id].input


def field_box(page, field):
    return page.locator(".field").filter(has=field)


# --- Image inputs ------------------------------------------------------------------------------


def test_a_url_typed_into_an_image_field_reaches_deerapi(page, worker, simulator, member):
    log_in(page, member)
    open_form(page, KONTEXT, "make it snow")
    page.get_by_label("Input image", exact=True).fill("https://example.com/deer.png")
    generate(page)

    assert received_by_deerapi(page, simulator)["input_image"] == "https://example.com/deer.png"


def test_urls_typed_into_a_several_images_field_reach_deerapi(page, worker, simulator, member):
    log_in(page, member)
    open_form(page, FLUX2, "the deer from the first image in the style of the second")
    page.get_by_label("Input images", exact=True).fill("https://example.com/a.png\nhttps://example.com/b.png")
    generate(page)

    assert received_by_deerapi(page, simulator)["input_images"] == [
        "https://example.com/a.png",
        "https://example.com/b.png",
    ]


def test_an_uploaded_image_reaches_deerapi_as_a_data_url(page, worker, simulator, member):
    data = png()
    log_in(page, member)
    open_form(page, KONTEXT, "make it snow")
    page.locator("#id_input_image_file").set_input_files({"name": "deer.png", "mimeType": "image/png", "buffer": data})
    generate(page)

    sent = received_by_deerapi(page, simulator)["input_image"]
    assert sent == "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def test_an_uploaded_image_follows_typed_urls_in_a_several_images_field(page, worker, simulator, member):
    data = png()
    log_in(page, member)
    open_form(page, FLUX2, "these two deer together")
    page.get_by_label("Input images", exact=True).fill("https://example.com/a.png")
    page.locator("#id_input_images_file").set_input_files({"name": "deer.png", "mimeType": "image/png", "buffer": data})
    generate(page)

    sent = received_by_deerapi(page, simulator)["input_images"]
    assert sent == ["https://example.com/a.png", "data:image/png;base64," + base64.b64encode(data).decode("ascii")]


def test_an_invalid_url_shows_an_error_on_its_field_and_stays_in_the_box(page, member):
    log_in(page, member)
    open_form(page, KONTEXT, "make it snow")
    page.get_by_label("Input image", exact=True).fill("not a url")
    generate(page)

    error = field_box(page, page.get_by_label("Input image", exact=True)).locator(".error")
    error.wait_for(state="visible")
    assert error.inner_text() == "Enter an http(s) URL of an image, or upload one."
    assert page.get_by_label("Input image", exact=True).input_value() == "not a url"
    assert page.get_by_role("textbox", name="Prompt", exact=True).input_value() == "make it snow"
    assert not Prediction.objects.exists()


def test_a_url_and_an_upload_in_one_image_field_get_a_message_not_a_guess(page, member):
    log_in(page, member)
    open_form(page, KONTEXT, "make it snow")
    page.get_by_label("Input image", exact=True).fill("https://example.com/deer.png")
    page.locator("#id_input_image_file").set_input_files({"name": "deer.png", "mimeType": "image/png", "buffer": png()})
    generate(page)

    error = field_box(page, page.get_by_label("Input image", exact=True)).locator(".error")
    error.wait_for(state="visible")
    assert error.inner_text() == "Give either an image URL or an upload, not both."
    assert page.get_by_label("Input image", exact=True).input_value() == "https://example.com/deer.png"
    assert not Prediction.objects.exists()


# --- The other kinds of input --------------------------------------------------------------------


def test_a_choice_reaches_deerapi(page, worker, simulator, member):
    log_in(page, member)
    open_form(page, KONTEXT)
    page.get_by_label("Aspect ratio", exact=True).select_option("16:9")
    page.get_by_label("Output format", exact=True).select_option("jpg")
    generate(page)

    sent = received_by_deerapi(page, simulator)
    assert (sent["aspect_ratio"], sent["output_format"]) == ("16:9", "jpg")


def test_numbers_reach_deerapi_as_numbers(page, worker, simulator, member):
    log_in(page, member)
    open_form(page, FLUX_DEV)
    page.get_by_label("Guidance", exact=True).fill("2.5")
    page.get_by_label("Num inference steps", exact=True).fill("20")
    generate(page)

    sent = received_by_deerapi(page, simulator)
    assert (sent["guidance"], sent["num_inference_steps"]) == (2.5, 20)
    assert isinstance(sent["num_inference_steps"], int)


def test_switches_reach_deerapi_on_and_off(page, worker, simulator, member):
    log_in(page, member)
    open_form(page, SCHNELL)
    page.get_by_label("Go fast", exact=True).uncheck()
    page.get_by_label("Disable safety checker", exact=True).check()
    generate(page)

    sent = received_by_deerapi(page, simulator)
    assert (sent["go_fast"], sent["disable_safety_checker"]) == (False, True)


def test_a_seed_reaches_deerapi_and_an_empty_one_is_left_to_deerapi(page, worker, simulator, member):
    log_in(page, member)
    open_form(page, SCHNELL)
    page.get_by_label("Seed", exact=True).fill("1234")
    generate(page)
    assert received_by_deerapi(page, simulator)["seed"] == 1234

    open_form(page, SCHNELL)
    generate(page)
    assert "seed" not in received_by_deerapi(page, simulator)


def test_free_text_reaches_deerapi_as_typed(page, worker, simulator, member):
    log_in(page, member)
    open_form(page, SDXL, "一只鹿 in the snow, “quoted” & <b>")
    page.get_by_label("Negative prompt", exact=True).fill("blurry, 模糊")
    generate(page)

    sent = received_by_deerapi(page, simulator)
    assert (sent["prompt"], sent["negative_prompt"]) == ("一只鹿 in the snow, “quoted” & <b>", "blurry, 模糊")


# --- The prompt's length -------------------------------------------------------------------------


def test_an_over_long_prompt_is_counted_refused_with_a_message_and_kept(page, member, settings):
    settings.PROMPT_MAX_LENGTH = 40
    log_in(page, member)
    page.goto(f"/predictions/new/?model={SCHNELL}")
    prompt = page.get_by_role("textbox", name="Prompt", exact=True)
    prompt.fill("a deer")
    count = page.locator(".char-count")
    assert count.inner_text() == "6 of 40 characters"

    text = "a deer standing in a snowy forest at dawn, cinematic"
    prompt.fill(text)
    assert prompt.input_value() == text, "the box cut what was pasted"
    assert count.inner_text() == f"{len(text)} of 40 characters: {len(text) - 40} too many"
    generate(page)

    error = field_box(page, page.get_by_role("textbox", name="Prompt", exact=True)).locator(".error")
    error.wait_for(state="visible")
    assert error.inner_text() == f"Ensure this value has at most 40 characters (it has {len(text)})."
    assert page.get_by_role("textbox", name="Prompt", exact=True).input_value() == text
    assert not Prediction.objects.exists()


# --- Dates in Simplified Chinese ------------------------------------------------------------------


def test_the_date_filters_show_their_dates_in_simplified_chinese(page, member):
    log_in(page, member)
    language_choose(page, "简体中文")
    today = timezone.localdate()

    page.goto("/usage/")
    since, until = page.locator("input[type=date][name=since]"), page.locator("input[type=date][name=until]")
    assert (since.input_value(), until.input_value()) == (today.replace(day=1).isoformat(), today.isoformat())

    since.fill("2026-01-05")
    with page.expect_navigation():
        since.press("Enter")
    assert "since=2026-01-05" in page.url
    assert since.input_value() == date(2026, 1, 5).isoformat()
    assert until.input_value() == today.isoformat()
