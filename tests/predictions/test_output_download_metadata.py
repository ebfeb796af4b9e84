"""Downloading an output: the file carries how it was made (PNG text chunks for AUTOMATIC1111 and
Civitai, XMP in JPEG and WebP), while the stored file and the inline view stay as DeerAPI sent them."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from PIL import Image

from billing import services as billing
from predictions.models import Prediction, PredictionOutput
from tests.world import FILE_POLICY, SCHNELL, SDXL, add_output, finished_prediction, updated

pytestmark = pytest.mark.django_db
PROMPT = "a red deer at dawn, 35mm"


def made(member, image_format: str = "PNG") -> PredictionOutput:
    """A finished prediction of `member`'s with seed 123, four steps and one stored output."""
    prediction = finished_prediction(member, prompt=PROMPT, outputs=0, seed=123, actual_cost=Decimal("0.003"))
    updated(prediction, input={"prompt": PROMPT, "num_inference_steps": 4, "aspect_ratio": "1:1", "seed": 123})
    return add_output(prediction, size=(24, 16), image_format=image_format)


def download(client, output: PredictionOutput):
    return client.get(reverse("predictions:output", args=[output.prediction_id, output.index]) + "?download=1")


def stored_bytes(output: PredictionOutput) -> bytes:
    with output.file.open("rb") as handle:
        return handle.read()


def test_a_downloaded_png_carries_its_parameters_as_automatic1111_writes_them(member_client, member):
    output = made(member)
    response = download(member_client, output)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    image = Image.open(io.BytesIO(response.content))
    image.load()
    prompt_line, settings_line = image.text["parameters"].split("\n")
    assert prompt_line == PROMPT
    settings = dict(pair.split(": ", 1) for pair in settings_line.split(", "))
    assert settings["Seed"] == "123"
    assert settings["Steps"] == "4"
    assert settings["Size"] == "24x16"
    assert settings["Model"] == SCHNELL
    assert settings["Aspect ratio"] == '"1:1"'  # quoted, as it holds a colon
    assert settings_line.startswith(f"Steps: 4, Seed: 123, Size: 24x16, Model: {SCHNELL}, ")  # A1111's order
    assert image.size == (24, 16)


def test_steps_left_to_the_model_are_written_as_its_default_and_its_guidance_as_cfg_scale(member_client, member):
    output = made(member)
    updated(output.prediction, model_id=SDXL, input={"prompt": PROMPT, "guidance_scale": 9})
    parameters = Image.open(io.BytesIO(download(member_client, output).content)).text["parameters"]
    assert parameters.split("\n")[1].startswith("Steps: 50, Sampler: K_EULER, CFG scale: 9, Seed: 123, ")


def test_a_downloaded_png_carries_the_deerweb_record_as_json(member_client, member):
    output = made(member)
    record = json.loads(Image.open(io.BytesIO(download(member_client, output).content)).text["deerweb"])
    assert record["id"] == output.prediction_id
    assert record["member"] == "alice"
    assert (record["model"], record["prompt"], record["seed"]) == (SCHNELL, PROMPT, 123)
    assert record["inputs"]["num_inference_steps"] == 4
    assert record["cost"] == "0.0030"
    assert record["review_state"] == Prediction.objects.get(pk=output.prediction_id).review_state
    assert record["created"]


def test_downloading_leaves_the_stored_file_and_the_inline_view_as_deerapi_sent_them(member_client, member):
    output = made(member)
    assert download(member_client, output).content != stored_bytes(output)
    assert hashlib.sha256(stored_bytes(output)).hexdigest() == output.checksum
    inline = member_client.get(reverse("predictions:output", args=[output.prediction_id, output.index]))
    assert b"".join(inline.streaming_content) == stored_bytes(output)
    assert inline["Cache-Control"] == "private, max-age=86400"


@pytest.mark.parametrize("image_format", ["JPEG", "WEBP"])
def test_a_downloaded_jpeg_or_webp_carries_the_record_as_xmp_and_still_decodes(member_client, member, image_format):
    output = made(member, image_format)
    response = download(member_client, output)
    assert response["Content-Security-Policy"] == FILE_POLICY
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert (image.format, image.size) == (image_format, (24, 16))
    record = json.loads(image.getxmp()["xmpmeta"]["RDF"]["Description"]["record"])
    assert (record["id"], record["prompt"], record["seed"], record["model"]) == (
        output.prediction_id,
        PROMPT,
        123,
        SCHNELL,
    )
    assert hashlib.sha256(stored_bytes(output)).hexdigest() == output.checksum


def test_an_uploaded_images_address_is_named_not_copied_into_the_download(member_client, member):
    output = made(member)
    token = uuid.uuid4()
    updated(output.prediction, input={"prompt": PROMPT, "input_image": f"https://deerweb.example/inputs/{token}/"})
    text = Image.open(io.BytesIO(download(member_client, output).content)).text
    assert str(token) not in text["parameters"] + text["deerweb"]
    assert json.loads(text["deerweb"])["inputs"]["input_image"] == "(uploaded image)"


def test_with_embedding_turned_off_a_download_is_the_stored_file(member_client, member, admin_user):
    billing.team_settings_update({"embed_download_metadata": False}, by=admin_user)
    for image_format in ("PNG", "JPEG", "WEBP"):
        output = made(member, image_format)
        response = download(member_client, output)
        assert response["Content-Disposition"].startswith("attachment;")
        assert b"".join(response.streaming_content) == stored_bytes(output)


def test_a_member_cannot_download_another_members_private_output(client, member, other_member):
    output = made(member)
    updated(output.prediction, is_private=True)
    client.force_login(other_member)
    assert download(client, output).status_code == 404


def test_a_reviewer_downloads_a_members_output_with_its_metadata(client, member, reviewer):
    output = made(member)
    client.force_login(reviewer)
    assert PROMPT in Image.open(io.BytesIO(download(client, output).content)).text["parameters"]
