"""What a member sees in a real browser: log in, ask for an image, watch it arrive.

Chromium (Debian's, at /usr/bin/chromium) driven by Playwright's sync API against
pytest-django's `live_server`, with a real Celery worker process on the same
PostgreSQL test database talking to the in-process DeerAPI simulator.
"""

from __future__ import annotations

import pytest
from django.utils import translation
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser import (
    PHONE,
    generate,
    language_choose,
    log_in,
    open_history,
    open_new_prediction,
    screenshot,
    submit_prompt,
)
from tests.world import PRO, ROOT, SCHNELL, finished_prediction

pytestmark = [pytest.mark.browser, pytest.mark.services]

# In-page recorder: every 100 ms, note the status shown if it differs from the last one.
RECORD_STATUSES = """() => {
  window.__noReload = true;
  window.__statuses = [];
  window.__statusTimes = [];
  const read = () => {
    const el = document.querySelector("#live [data-prediction-status]");
    const status = el ? el.getAttribute("data-prediction-status") : null;
    const seen = window.__statuses;
    if (status && seen[seen.length - 1] !== status) {
      seen.push(status);
      window.__statusTimes.push(Math.round(performance.now()));
    }
  };
  read();
  window.setInterval(read, 100);
}"""


def wait_for_status(page, status: str, timeout_ms: int = 20_000) -> list[str]:
    """Wait until the recorder has seen `status` shown; returns every status seen so far."""
    try:
        page.wait_for_function(
            "status => window.__statuses[window.__statuses.length - 1] === status", arg=status, timeout=timeout_ms
        )
    except PlaywrightTimeoutError:
        raise AssertionError(
            f"the page never showed {status!r}; it showed {statuses_seen(page)} "
            f"at {page.evaluate('window.__statusTimes')} ms"
        ) from None
    return statuses_seen(page)


def statuses_seen(page) -> list[str]:
    return page.evaluate("window.__statuses")


def still_the_same_page(page) -> bool:
    return page.evaluate("window.__noReload === true")


# --- Tests ------------------------------------------------------------------------


def test_a_member_logs_in_submits_a_prompt_watches_the_status_change_and_sees_the_image(
    page, live_server, worker, simulator, member
):
    simulator.processing_seconds = 2.5
    try:
        log_in(page, member)
        open_new_prediction(page)
        model = page.get_by_label("Model", exact=True)
        offered = model.locator("option").evaluate_all("options => options.map(o => o.value)")
        assert SCHNELL in offered
        assert model.input_value() == SCHNELL

        pk = submit_prompt(page, "a deer in a snowy forest at dawn")
        page.evaluate(RECORD_STATUSES)
        assert page.get_by_role("button", name="Cancel").is_visible(), "a running prediction can be canceled"

        statuses = wait_for_status(page, "succeeded")
        assert len(statuses) >= 2 and statuses[0] != "succeeded", f"no status before succeeded was shown: {statuses}"
        assert {"failed", "canceled", "unknown"}.isdisjoint(statuses), statuses
        assert still_the_same_page(page), "the detail page reloaded instead of updating itself"
        assert page.get_by_role("button", name="Cancel").count() == 0, "a finished prediction offers Cancel"

        image = page.locator("#live img").first
        image.wait_for(state="visible")
        output_path = f"/predictions/{pk}/outputs/0/"
        assert image.get_attribute("src") == output_path
        # Loaded, or given up on: either way `complete`; only a loaded image has a width.
        page.wait_for_function("img => img.complete && img.currentSrc !== ''", arg=image.element_handle())
        assert image.evaluate("img => img.currentSrc") == live_server.url + output_path
        assert image.evaluate("img => img.naturalWidth") > 0, "the image did not load"
        assert simulator.url not in page.content()
        assert still_the_same_page(page)

        screenshot(page, "prediction-detail.png", full_page=True)
    finally:
        simulator.processing_seconds = 0.6


def test_a_validation_message_appears_on_the_form(page, member):
    log_in(page, member)
    open_new_prediction(page)

    generate(page)

    prompt_field = page.locator(".field").filter(has=page.get_by_role("textbox", name="Prompt", exact=True))
    message = prompt_field.locator(".error")
    message.wait_for(state="visible")
    assert message.inner_text() == "This field is required."
    assert page.url.endswith("/predictions/new/")


def test_switching_the_model_shows_that_models_fields_and_keeps_the_prompt(page, member):
    log_in(page, member)
    open_new_prediction(page)
    page.get_by_role("textbox", name="Prompt", exact=True).fill("a lighthouse made of glass")
    assert page.locator("[name=num_outputs]").is_visible()
    assert page.locator("[name=safety_tolerance]").count() == 0

    with page.expect_navigation():
        page.get_by_label("Model", exact=True).select_option(PRO)

    assert page.get_by_label("Model", exact=True).input_value() == PRO
    safety = page.get_by_label("Safety tolerance")
    safety.wait_for(state="visible")
    assert safety.get_attribute("name") == "safety_tolerance"
    assert page.locator("[name=num_outputs]").count() == 0
    assert page.get_by_role("textbox", name="Prompt", exact=True).input_value() == "a lighthouse made of glass"
    assert page.locator(".error").count() == 0, "switching model is not a submission"


def test_a_failed_prediction_shows_its_message_live(page, worker, simulator, member):
    simulator.fail_next(error="Simulated: the model refused")
    log_in(page, member)
    open_new_prediction(page)
    submit_prompt(page, "a deer that the model will refuse")
    page.evaluate(RECORD_STATUSES)

    statuses = wait_for_status(page, "failed")
    assert statuses[0] != "failed", f"the failure was already there on load: {statuses}"
    assert page.locator('#live [data-prediction-status="failed"]').is_visible()
    message = page.locator("#live .error-message")
    message.wait_for(state="visible")
    assert message.inner_text() == "Simulated: the model refused"
    assert page.locator("#live [role=alert]").is_visible()
    assert still_the_same_page(page), "the failure should appear without a reload"
    assert page.get_by_role("button", name="Cancel").count() == 0, "a failed prediction offers Cancel"


def test_the_language_switcher_shows_the_page_in_simplified_chinese(page, member):
    log_in(page, member)
    open_history(page)
    assert page.locator("html").get_attribute("lang") == "en"

    language_choose(page, "简体中文")

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.url.endswith("/predictions/"), "the switcher comes back to the same page"
    # When the Chinese catalogue is in place, the words change too.
    with translation.override("zh-hans"):
        history = translation.gettext("History")
        library = translation.pgettext("site menu", "Library")
        main = translation.gettext("Main")
    if (ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo").exists() and history != "History":
        nav = page.get_by_role("navigation", name=main)
        nav.locator("summary", has_text=library).click()
        assert nav.get_by_role("link", name=history).is_visible()


def test_a_running_prediction_can_be_canceled_from_its_page(page, worker, simulator, member):
    simulator.processing_seconds = 5.0
    try:
        log_in(page, member)
        open_new_prediction(page)
        submit_prompt(page, "a deer I will change my mind about")
        with page.expect_navigation():
            page.get_by_role("button", name="Cancel").click()
        page.evaluate(RECORD_STATUSES)
        assert page.get_by_role("status").filter(has_text="Cancellation requested.").is_visible()

        statuses = wait_for_status(page, "canceled")
        assert "succeeded" not in statuses, statuses
        assert page.get_by_role("button", name="Cancel").count() == 0, "a canceled prediction offers Cancel"
        assert page.locator("#live img").count() == 0
    finally:
        simulator.processing_seconds = 0.6


def test_on_a_phone_the_history_table_scrolls_inside_and_the_page_keeps_its_width(page, member):
    for _ in range(3):
        finished_prediction(member, outputs=1)
    page.set_viewport_size(PHONE)
    log_in(page, member)
    page.goto("/predictions/")
    page.locator("table.history").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "history-table-390.png", full_page=True)
