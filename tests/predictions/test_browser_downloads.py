"""Downloads in a real browser: a member ticks predictions in the history and saves one .zip, or
saves one image from its page; either way the files carry how they were made.

Chromium through Playwright (tests/browser.py) against `live_server`.
Screenshots go to var/test-artifacts/screenshots/ (downloads-*.png).
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image

from tests.browser import PHONE, log_in, open_history, screenshot
from tests.world import SCHNELL, finished_prediction

pytestmark = [pytest.mark.browser]


def test_a_member_ticks_two_predictions_in_the_history_and_saves_them_as_one_zip(page, member, tmp_path):
    first = finished_prediction(member, prompt="a stag at dusk", outputs=2, seed=41)
    finished_prediction(member, prompt="left out", outputs=1)
    third = finished_prediction(member, prompt="a doe in the rain", outputs=1)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, member)
    open_history(page)
    page.get_by_label(f"Select prediction {first.pk}").check()
    page.get_by_label(f"Select prediction {third.pk}").check()
    screenshot(page, "downloads-history-selected.png")
    with page.expect_download() as saving:
        page.get_by_role("button", name="Download selected (.zip)").click()
    download = saving.value
    assert download.suggested_filename == "deerweb-predictions.zip"
    path = tmp_path / "saved.zip"
    download.save_as(path)

    archive = zipfile.ZipFile(path)
    assert sorted(archive.namelist()) == sorted(
        [
            f"deerweb-{first.pk}-1.png",
            f"deerweb-{first.pk}-2.png",
            f"deerweb-{third.pk}-1.png",
            "metadata.json",
            "metadata.csv",
        ]
    )
    assert [record["prompt"] for record in json.loads(archive.read("metadata.json"))] == [
        "a doe in the rain",
        "a stag at dusk",
    ]
    parameters = Image.open(archive.open(f"deerweb-{first.pk}-1.png")).text["parameters"]
    assert parameters.startswith("a stag at dusk\n") and "Seed: 41" in parameters and f"Model: {SCHNELL}" in parameters


def test_on_a_phone_the_selection_and_its_button_fit_the_screen(page, member):
    for _ in range(3):
        finished_prediction(member, outputs=1)
    page.set_viewport_size(PHONE)
    log_in(page, member)
    open_history(page)
    button = page.get_by_role("button", name="Download selected (.zip)")
    assert button.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "downloads-history-390.png", full_page=True)


def test_the_download_link_on_a_predictions_page_saves_the_image_with_its_parameters(page, member, tmp_path):
    prediction = finished_prediction(member, prompt="a fawn among ferns", outputs=1, seed=9)
    log_in(page, member)
    page.goto(prediction.get_absolute_url())
    with page.expect_download() as saving:
        page.get_by_role("link", name="Download").first.click()
    path = tmp_path / saving.value.suggested_filename
    saving.value.save_as(path)
    assert path.name == f"deerweb-{prediction.pk}-1.png"
    image = Image.open(io.BytesIO(path.read_bytes()))
    assert image.text["parameters"].startswith("a fawn among ferns\n")
    assert json.loads(image.text["deerweb"])["id"] == prediction.pk
