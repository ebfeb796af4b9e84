"""Grid tiles in a real browser: on a high-DPI screen (deviceScaleFactor 2) Chromium takes the
stored image from the srcset, on a 1x screen the thumbnail; a small image is not stretched.

Chromium through Playwright (the browser fixture of test_browser.py) against `live_server`.
Screenshots go to var/test-artifacts/screenshots/ (tiles-*.png).
"""

from __future__ import annotations

import pytest

from predictions.models import ReviewState

from .test_browser import browser, log_in  # noqa: F401 - the browser fixture and a step shared with test_browser
from .test_browser_header import ARTIFACTS, PHONE, WIDE
from .test_thumbnails import sized_prediction

pytestmark = [pytest.mark.browser]
APPROVED = {"review_state": ReviewState.APPROVED}
# The source the browser chose, once the image has loaded.
CHOSEN = """img => new Promise(resolve => {
  const done = () => resolve({src: new URL(img.currentSrc).pathname, width: img.getBoundingClientRect().width});
  img.complete && img.naturalWidth ? done() : img.addEventListener("load", done, {once: true});
})"""


@pytest.fixture
def open_as(browser, live_server):  # noqa: F811
    """A tab at a viewport and a device scale factor, logged in as `user`."""
    contexts = []

    def opener(user, viewport: dict, scale: float):
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport, device_scale_factor=scale, locale="en-US"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = context.new_page()
        log_in(tab, user)
        return tab

    yield opener
    for context in contexts:
        context.close()


def chosen(tab, selector: str) -> dict:
    return tab.locator(selector).first.evaluate(CHOSEN)


def test_the_gallery_takes_the_stored_image_on_a_high_dpi_screen_and_the_thumbnail_on_a_1x_one(
    open_as, member, other_member
):
    prediction = sized_prediction(other_member, 1024, 1024, **APPROVED)
    image = f"/predictions/{prediction.pk}/outputs/0/"

    sharp = open_as(member, WIDE, 2)
    sharp.goto("/gallery/")
    tile = chosen(sharp, ".gallery-card img")
    assert tile["src"] == image, "the 384 px thumbnail is too small for the tile at 2x"
    assert 300 < tile["width"] <= 1024
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sharp.screenshot(path=str(ARTIFACTS / "tiles-gallery-1366-2x.png"))

    plain = open_as(member, WIDE, 1)
    plain.goto("/gallery/")
    assert chosen(plain, ".gallery-card img")["src"] == f"{image}thumbnail/"


def test_the_history_grid_takes_the_stored_image_on_a_high_dpi_phone(open_as, member):
    prediction = sized_prediction(member, 1024, 1024)

    phone = open_as(member, PHONE, 2)
    phone.goto("/predictions/?view=grid")
    assert chosen(phone, ".output-grid img")["src"] == f"/predictions/{prediction.pk}/outputs/0/"

    wide = open_as(member, WIDE, 1)
    wide.goto("/predictions/?view=grid")
    assert chosen(wide, ".output-grid img")["src"] == f"/predictions/{prediction.pk}/outputs/0/thumbnail/"


def test_a_small_image_is_not_stretched_to_the_tile(open_as, member, other_member):
    sized_prediction(other_member, 200, 200, **APPROVED)
    sized_prediction(member, 200, 200)

    tab = open_as(member, WIDE, 2)
    tab.goto("/gallery/")
    assert chosen(tab, ".gallery-card img")["width"] == 200
    tab.goto("/predictions/?view=grid")
    assert chosen(tab, ".output-grid img")["width"] <= 200
