"""Outputs of every shape through the real pipeline: a list (gallery), one URL, and an SVG —
stored in their original format, shown through <img>, served so nothing in them can run, and
downloaded with a sensible file name."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from predictions.models import Prediction, Status
from tests.world import RECRAFT_SVG, SCHNELL, submit, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def run(owner, model_id, **input) -> Prediction:
    return wait_for(submit(owner, model_id, **input), Status.SUCCEEDED)


def download(client, prediction, index=0):
    return client.get(reverse("predictions:output", args=[prediction.pk, index]) + "?download=1")


def test_a_list_model_stores_every_output_and_shows_them_as_a_gallery(worker, simulator, member_client, member):
    prediction = run(member, SCHNELL, num_outputs=3, output_format="jpg")
    outputs = list(prediction.outputs.order_by("index"))
    assert [(o.index, o.content_type) for o in outputs] == [(0, "image/jpeg"), (1, "image/jpeg"), (2, "image/jpeg")]
    html = member_client.get(prediction.get_absolute_url()).content.decode()
    gallery = re.search(r'<ul class="gallery">.*?</ul>', html, re.S).group(0)
    assert gallery.count("<img ") == 3
    response = download(member_client, prediction, 2)
    assert response["Content-Type"] == "image/jpeg"
    assert f'filename="deerweb-{prediction.pk}-3.jpg"' in response["Content-Disposition"]


def test_a_single_url_model_keeps_its_chosen_format(worker, simulator, member_client, member):
    prediction = run(member, "stability-ai/stable-diffusion-3.5-large", output_format="webp")
    output = prediction.outputs.get()
    assert output.content_type == "image/webp"
    assert output.file.name.endswith(".webp")
    response = download(member_client, prediction)
    assert f'filename="deerweb-{prediction.pk}-1.webp"' in response["Content-Disposition"]
    assert response.getvalue()[8:12] == b"WEBP"  # with its XMP, or as stored


def test_an_svg_is_stored_as_svg_shown_only_through_img_and_served_so_it_cannot_run(
    worker, simulator, member_client, member
):
    prediction = run(member, RECRAFT_SVG, style="line_art")
    output = prediction.outputs.get()
    assert output.content_type == "image/svg+xml"
    assert output.file.name.endswith(".svg")
    assert output.file.read().lstrip().startswith(b"<?xml")

    html = member_client.get(prediction.get_absolute_url()).content.decode()
    assert f'<img src="/predictions/{prediction.pk}/outputs/0/"' in html
    assert "<svg" not in html, "never inlined into our page"

    response = member_client.get(reverse("predictions:output", args=[prediction.pk, 0]))
    assert response["Content-Type"] == "image/svg+xml"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy
    response = download(member_client, prediction)
    assert response["Content-Disposition"].startswith("attachment;")
    assert f'filename="deerweb-{prediction.pk}-1.svg"' in response["Content-Disposition"]
    thumb = member_client.get(reverse("predictions:thumbnail", args=[prediction.pk, 0]))
    assert thumb["Content-Type"] == "image/svg+xml" and "sandbox" in thumb["Content-Security-Policy"]
