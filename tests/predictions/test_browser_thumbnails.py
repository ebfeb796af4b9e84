"""Grid tiles in a real browser: on a high-DPI screen (deviceScaleFactor 2) Chromium takes the
stored image from the srcset, on a 1x screen the thumbnail; a small image is not stretched.

Chromium through Playwright (tests/browser.py) against `live_server`.
Screenshots go to var/test-artifacts/screenshots/ (tiles-*.png).
"""

from __future__ import annotations

import pytest

from predictions.models import ReviewState
from tests.browser import PHONE, WIDE, log_in, new_context, screenshot
from tests.world import finished_prediction

pytestmark = [pytest.mark.browser]
APPROVED = {"review_state": ReviewState.APPROVED}
# The source the browser chose, once the image has loaded.
CHOSEN = """img => new Promise(resolve => {
  const done = () => resolve({src: new URL(img.currentSrc).pathname, width: img.getBoundingClientRect().width});
  img.complete && img.naturalWidth ? done() : img.addEventListener("load", done, {once: true});
})"""


@pytest.fixture
def open_as(browser, live_server):
    """A tab at a viewport and a device scale factor, logged in as `user`."""
    contexts = []

    def opener(user, viewport: dict, scale: float):
        context = new_context(browser, live_server.url, viewport=viewport, device_scale_factor=scale)
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
    prediction = finished_prediction(other_member, size=(1024, 1024), **APPROVED)
    image = f"/predictions/{prediction.pk}/outputs/0/"

    sharp = open_as(member, WIDE, 2)
    sharp.goto("/gallery/")
    tile = chosen(sharp, ".gallery-card img")
    assert tile["src"] == image, "the 384 px thumbnail is too small for the tile at 2x"
    assert 300 < tile["width"] <= 1024
    screenshot(sharp, "tiles-gallery-1366-2x.png")

    plain = open_as(member, WIDE, 1)
    plain.goto("/gallery/")
    assert chosen(plain, ".gallery-card img")["src"] == f"{image}thumbnail/"


def test_the_history_grid_takes_the_stored_image_on_a_high_dpi_phone(open_as, member):
    prediction = finished_prediction(member, size=(1024, 1024))

    phone = open_as(member, PHONE, 2)
    phone.goto("/predictions/?view=grid")
    assert chosen(phone, ".output-grid img")["src"] == f"/predictions/{prediction.pk}/outputs/0/"

    wide = open_as(member, WIDE, 1)
    wide.goto("/predictions/?view=grid")
    assert chosen(wide, ".output-grid img")["src"] == f"/predictions/{prediction.pk}/outputs/0/thumbnail/"


def test_a_small_image_is_not_stretched_to_the_tile(open_as, member, other_member):
    finished_prediction(other_member, size=(200, 200), **APPROVED)
    finished_prediction(member, size=(200, 200))

    tab = open_as(member, WIDE, 2)
    tab.goto("/gallery/")
    assert chosen(tab, ".gallery-card img")["width"] == 200
    tab.goto("/predictions/?view=grid")
    assert chosen(tab, ".output-grid img")["width"] <= 200
