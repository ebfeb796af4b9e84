"""Collections in a real browser: tick images in the history grid and add them to a new collection,
add one from a prediction's page without leaving it, share the collection and open the link in a
fresh browser (no login), see it stop working once revoked or expired, and save the .zip. At
1366 px and on a 390 px phone.

Chromium through Playwright (tests/browser.py) against `live_server`. Screenshots go to
var/test-artifacts/screenshots/ (collection*.png, share-link-anonymous*.png).
"""

from __future__ import annotations

import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from albums.models import Collection, ShareLink
from tests.browser import PHONE, SCREENSHOTS, WIDE, log_in, new_context, screenshot
from tests.world import add_output, collection_of, finished_prediction

COLOURS = ("#7a4b1f", "#24508a", "#1f6f43", "#a35d2a", "#5b4a8a", "#8a5a00")


def pictured(owner, prompt: str, outputs: int = 1, **fields):
    """A finished prediction whose outputs are 384 px squares of distinct colours (for screenshots)."""
    prediction = finished_prediction(owner, prompt=prompt, outputs=0, **fields)
    for index in range(outputs):
        add_output(prediction, index, size=(384, 384), color=COLOURS[(prediction.pk + index) % len(COLOURS)])
    return prediction


pytestmark = [pytest.mark.browser]


def create_share_link(page, *, show_prompt: bool = True, days: str = "a week") -> str:
    """On a collection's page: make a link and read its address, shown this once."""
    page.get_by_label(days, exact=True).check()
    if show_prompt:
        page.get_by_label("Show the prompts").check()
    page.get_by_role("button", name="Create a share link").click()
    return page.get_by_role("textbox", name="Share link").input_value()


def open_anonymously(browser, live_server, url: str, *, viewport: dict = WIDE):
    """`url` in a browser profile of its own: nobody logged in."""
    context = new_context(browser, live_server.url, viewport=viewport)
    tab = context.new_page()
    response = tab.goto(url)
    return context, tab, response


def images_loaded(tab) -> list[bool]:
    """Whether each image of the page's main part arrived, once every one was scrolled to (they load lazily)."""
    images = tab.locator("main img")
    for index in range(images.count()):
        images.nth(index).scroll_into_view_if_needed()
        images.nth(index).evaluate("i => i.complete || new Promise(done => { i.onload = i.onerror = done; })")
    return tab.eval_on_selector_all("main img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")


def test_a_member_ticks_images_in_the_grid_and_adds_them_to_a_new_collection(page, member):
    stag = pictured(member, "a stag at dusk", outputs=2)
    doe = pictured(member, "a doe in the rain")
    finished_prediction(member, prompt="left out", outputs=1)
    page.set_viewport_size(WIDE)
    log_in(page, member)
    page.goto("/predictions/?view=grid")
    page.get_by_label(f"Select image 1 of prediction {stag.pk}").check()
    page.get_by_label(f"Select image 2 of prediction {stag.pk}").check()
    page.get_by_label(f"Select image 1 of prediction {doe.pk}").check()
    screenshot(page, "collection-history-grid-selected.png")
    page.get_by_role("button", name="Add selected to collection").click()
    page.get_by_text("3 images chosen.").wait_for()
    page.get_by_label("Or a new collection named").fill("Deer at dusk")
    page.get_by_label("Collection", exact=True).select_option(label="— a new collection —")
    page.get_by_role("button", name="Add to collection").click()
    page.wait_for_url(re.compile(r"/predictions/\?view=grid$"))
    assert page.get_by_role("status").filter(has_text="Added 3 images to “Deer at dusk”.").is_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Collections").click()
    page.get_by_role("link", name="Deer at dusk").click()
    assert page.locator(".collection-grid li").count() == 3
    assert all(images_loaded(page))
    screenshot(page, "collection.png", full_page=True)


def test_an_image_is_added_from_its_predictions_page_without_leaving_it(page, member):
    prediction = finished_prediction(member, outputs=2)
    collection = collection_of(member, name="Keepers")
    log_in(page, member)
    page.goto(prediction.get_absolute_url())
    panel = page.get_by_role("region", name="Add to a collection")
    panel.get_by_label("Image 1").uncheck()
    panel.get_by_label("Collection", exact=True).select_option(label="Keepers")
    panel.get_by_role("button", name="Add to collection").click()
    panel.get_by_role("status").filter(has_text="Added 1 image to “Keepers”.").wait_for()
    panel.screenshot(path=str(SCREENSHOTS / "collection-add-panel.png"))
    assert page.url.endswith(prediction.get_absolute_url())
    assert list(collection.items.values_list("output__index", flat=True)) == [1]


def test_a_share_link_opens_in_a_fresh_browser_without_login_and_stops_once_revoked(page, browser, live_server, member):
    stag = pictured(member, "a stag at dusk", outputs=2)
    fawn = pictured(member, "a fawn among ferns")
    collection = collection_of(member, stag, fawn, name="For the client")
    page.set_viewport_size(WIDE)
    log_in(page, member)
    page.goto(collection.get_absolute_url())
    url = create_share_link(page)
    assert re.fullmatch(rf"{re.escape(live_server.url)}/s/[\w-]{{40,}}/", url)

    context, tab, response = open_anonymously(browser, live_server, url)
    assert response.status == 200 and response.headers["referrer-policy"] == "no-referrer"
    assert tab.get_by_role("heading", name="For the client").is_visible()
    assert tab.get_by_text("a stag at dusk").count() == 2
    assert images_loaded(tab) == [True, True, True]
    assert tab.get_by_role("navigation").count() == 0 and tab.get_by_text("alice").count() == 0
    screenshot(tab, "share-link-anonymous.png", full_page=True)
    context.close()

    page.goto(collection.get_absolute_url())  # not a reload: that would send the form again
    assert page.get_by_role("cell", name="1 time").is_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    page.get_by_text("The link is revoked").wait_for()
    assert page.get_by_role("cell", name="Revoked", exact=True).is_visible()
    context, tab, response = open_anonymously(browser, live_server, url)
    assert response.status == 404
    assert tab.get_by_role("heading", name="Page not found").is_visible()
    context.close()


def test_an_expired_share_link_is_the_styled_404(page, browser, live_server, member):
    collection = collection_of(member, finished_prediction(member, outputs=1), name="Old news")
    log_in(page, member)
    page.goto(collection.get_absolute_url())
    url = create_share_link(page, days="a day", show_prompt=False)
    ShareLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    context, tab, response = open_anonymously(browser, live_server, url)
    assert response.status == 404
    assert tab.get_by_role("heading", name="Page not found").is_visible()
    assert tab.get_by_text("Old news").count() == 0
    context.close()
    page.goto(collection.get_absolute_url())
    assert page.get_by_role("cell", name="Expired", exact=True).is_visible()


def test_the_collection_downloads_as_a_zip_with_its_metadata(page, member, tmp_path):
    stag = finished_prediction(member, prompt="a stag at dusk", outputs=2, seed=41)
    collection = collection_of(member, stag)
    log_in(page, member)
    page.goto(collection.get_absolute_url())
    with page.expect_download() as saving:
        page.get_by_role("link", name="Download collection (.zip)").click()
    assert saving.value.suggested_filename == f"deerweb-collection-{collection.pk}.zip"
    path = tmp_path / "collection.zip"
    saving.value.save_as(path)
    archive = zipfile.ZipFile(path)
    assert sorted(archive.namelist()) == sorted(
        [f"deerweb-{stag.pk}-1.png", f"deerweb-{stag.pk}-2.png", "metadata.json", "metadata.csv"]
    )
    assert json.loads(archive.read("metadata.json"))[0]["seed"] == 41


def test_on_a_phone_the_collection_and_its_share_page_fit_the_screen(page, browser, live_server, member):
    collection = collection_of(member, *[pictured(member, f"deer {n}") for n in range(3)])
    page.set_viewport_size(PHONE)
    log_in(page, member)
    page.goto(collection.get_absolute_url())
    url = create_share_link(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "collection-390.png", full_page=True)
    context, tab, _response = open_anonymously(browser, live_server, url, viewport=PHONE)
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert all(images_loaded(tab))
    screenshot(tab, "share-link-anonymous-390.png", full_page=True)
    context.close()
    page.goto("/collections/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "collections-390.png", full_page=True)
    page.goto("/predictions/?view=grid")
    assert page.get_by_role("button", name="Add selected to collection").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert Collection.objects.count() == 1


def test_a_reviewer_adds_cards_selected_in_the_review_queue(page, reviewer, member):
    first, second = pictured(member, "a stag"), pictured(member, "a doe")
    log_in(page, reviewer)
    page.goto("/review/")
    page.get_by_role("checkbox", name="Select").first.check()
    page.get_by_role("checkbox", name="Select").nth(1).check()
    page.get_by_role("button", name="Add selected to collection").click()
    page.get_by_text("2 images chosen.").wait_for()
    page.get_by_label("Or a new collection named").fill("Queue picks")
    page.get_by_role("button", name="Add to collection").click()
    page.wait_for_url(re.compile(r"/review/$"))
    assert page.get_by_text("Added 2 images to “Queue picks”.").is_visible()
    collection = Collection.objects.get(owner=reviewer)
    assert sorted(collection.items.values_list("output__prediction_id", flat=True)) == [first.pk, second.pk]
