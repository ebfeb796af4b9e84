"""Downloading selected predictions from the history as one .zip: every stored output (with its
metadata), metadata.json and metadata.csv, streamed part by part."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
import zipfile

import pytest
from django.urls import reverse
from PIL import Image

from billing import services as billing
from predictions.models import Prediction
from tests.world import PROMPT, RECRAFT_SVG, SCHNELL, add_output, finished_prediction

pytestmark = pytest.mark.django_db
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"/>'


def zip_of(client, *predictions: Prediction) -> zipfile.ZipFile:
    response = client.get(reverse("predictions:download"), {"id": [p.pk for p in predictions]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="deerweb-predictions.zip"'
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_zip_holds_every_output_with_its_metadata_and_the_records_as_json_and_csv(member_client, member):
    first = finished_prediction(member, outputs=2, seed=123)
    second = finished_prediction(member, prompt="a deer, in fog", outputs=1)
    archive = zip_of(member_client, first, second)
    assert archive.testzip() is None
    assert set(archive.namelist()) == {
        f"deerweb-{first.pk}-1.png",
        f"deerweb-{first.pk}-2.png",
        f"deerweb-{second.pk}-1.png",
        "metadata.json",
        "metadata.csv",
    }
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    parameters = Image.open(archive.open(f"deerweb-{first.pk}-2.png")).text["parameters"]
    assert parameters.startswith(PROMPT + "\n") and "Seed: 123" in parameters and f"Model: {SCHNELL}" in parameters
    records = {record["id"]: record for record in json.loads(archive.read("metadata.json"))}
    assert records[second.pk]["prompt"] == "a deer, in fog"
    assert records[first.pk]["files"] == [f"deerweb-{first.pk}-1.png", f"deerweb-{first.pk}-2.png"]
    assert records[first.pk]["member"] == "alice"
    rows = list(csv.DictReader(io.StringIO(archive.read("metadata.csv").decode())))
    assert [int(row["id"]) for row in rows] == [second.pk, first.pk]
    assert rows[0]["prompt"] == "a deer, in fog"
    assert json.loads(rows[1]["inputs"]) == {"prompt": PROMPT, "seed": 7}
    assert set(rows[1]) == {
        "id",
        "member",
        "model",
        "prompt",
        "inputs",
        "seed",
        "created",
        "cost",
        "review_state",
        "files",
    }


def test_an_svg_goes_into_the_zip_as_it_is_stored(member_client, member):
    prediction = finished_prediction(member, model_id=RECRAFT_SVG, outputs=1)
    output = prediction.outputs.get()
    output.file.save("drawing.svg", io.BytesIO(SVG))
    type(output).objects.filter(pk=output.pk).update(content_type="image/svg+xml")
    assert zip_of(member_client, prediction).read(f"deerweb-{prediction.pk}-1.svg") == SVG


def test_with_embedding_turned_off_the_zip_holds_the_stored_files(member_client, member, admin_user):
    billing.team_settings_update({"embed_download_metadata": False}, by=admin_user)
    prediction = finished_prediction(member, outputs=1)
    with prediction.outputs.get().file.open("rb") as stored:
        assert zip_of(member_client, prediction).read(f"deerweb-{prediction.pk}-1.png") == stored.read()


def test_another_members_private_prediction_is_left_out_of_the_zip(client, member, other_member):
    mine = finished_prediction(other_member, outputs=1)
    private = finished_prediction(member, outputs=1, is_private=True)
    client.force_login(other_member)
    archive = zip_of(client, mine, private)
    assert [record["id"] for record in json.loads(archive.read("metadata.json"))] == [mine.pk]
    assert f"deerweb-{private.pk}-1.png" not in archive.namelist()


def test_a_download_with_nothing_selected_goes_back_to_the_history(member_client):
    response = member_client.get(reverse("predictions:download"), {"id": ["x", "999999"]})
    assert response.status_code == 302
    assert response["Location"] == reverse("predictions:list")


def test_the_history_list_offers_each_prediction_for_the_zip(member_client, member):
    prediction = finished_prediction(member, outputs=1)
    page = member_client.get(reverse("predictions:list")).content.decode()
    assert f'name="id" value="{prediction.pk}" form="download-selected"' in page
    assert f'action="{reverse("predictions:download")}"' in page


def test_streaming_a_zip_holds_one_file_at_a_time_in_memory(member_client, member):
    """Twelve 0.8 MB outputs make a 9 MB zip; reading it part by part never holds more than a
    few outputs' worth (the file being added, its copy with metadata, one part sent)."""
    prediction = finished_prediction(member, outputs=0)
    outputs = [add_output(prediction, index, size=(512, 512), noise=True) for index in range(12)]
    one = max(output.size for output in outputs)
    response = member_client.get(reverse("predictions:download"), {"id": [prediction.pk]})
    tracemalloc.start()
    try:
        total = sum(len(part) for part in response.streaming_content)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 12 * one
    assert peak < 4 * one
