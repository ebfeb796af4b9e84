"""A collection as a .zip: the images the member may see, with metadata.json and metadata.csv;
and a selection of images in the history grid as a .zip."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse
from PIL import Image

from predictions.models import ReviewState
from tests.world import SCHNELL, collection_of, finished_prediction

pytestmark = pytest.mark.django_db


def unzipped(response) -> zipfile.ZipFile:
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_collection_zip_holds_its_images_and_their_records(member_client, member):
    stag = finished_prediction(member, prompt="a stag at dusk", outputs=2, seed=41)
    doe = finished_prediction(member, prompt="a doe", outputs=2)
    collection = collection_of(member, stag)
    from albums import services

    services.collection_items_add(collection, [doe.outputs.get(index=1)])  # one of its two images
    response = member_client.get(reverse("collections:download", args=[collection.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="deerweb-collection-{collection.pk}.zip"'
    archive = unzipped(response)
    assert sorted(archive.namelist()) == sorted(
        [
            f"deerweb-{stag.pk}-1.png",
            f"deerweb-{stag.pk}-2.png",
            f"deerweb-{doe.pk}-2.png",
            "metadata.json",
            "metadata.csv",
        ]
    )
    records = {r["id"]: r for r in json.loads(archive.read("metadata.json"))}
    assert records[doe.pk]["files"] == [f"deerweb-{doe.pk}-2.png"]
    assert records[stag.pk]["prompt"] == "a stag at dusk" and records[stag.pk]["seed"] == 41
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(archive.read("metadata.csv").decode()))}
    assert rows[stag.pk]["model"] == SCHNELL and rows[stag.pk]["review_state"] == "pending"
    parameters = Image.open(archive.open(f"deerweb-{stag.pk}-1.png")).text["parameters"]
    assert parameters.startswith("a stag at dusk\n") and "Seed: 41" in parameters


def test_a_teammates_zip_of_a_team_collection_holds_only_what_they_may_see(client, member, other_member):
    approved = finished_prediction(member, outputs=1, review_state=ReviewState.APPROVED)
    pending = finished_prediction(member, outputs=1)
    collection = collection_of(member, approved, pending, visibility="team")
    client.force_login(other_member)
    names = unzipped(client.get(reverse("collections:download", args=[collection.pk]))).namelist()
    assert f"deerweb-{approved.pk}-1.png" in names and f"deerweb-{pending.pk}-1.png" not in names


def test_an_empty_collection_has_no_zip_but_a_message(member_client, member):
    collection = collection_of(member)
    response = member_client.get(reverse("collections:download", args=[collection.pk]), follow=True)
    assert "no image to download" in response.content.decode()


def test_images_ticked_in_the_history_grid_download_as_a_zip(member_client, member):
    prediction = finished_prediction(member, outputs=3)
    chosen = [prediction.outputs.get(index=0).pk, prediction.outputs.get(index=2).pk]
    archive = unzipped(member_client.get(reverse("predictions:download"), {"output": chosen}))
    assert sorted(archive.namelist()) == sorted(
        [f"deerweb-{prediction.pk}-1.png", f"deerweb-{prediction.pk}-3.png", "metadata.json", "metadata.csv"]
    )


def test_a_grid_selection_never_zips_another_members_images(member_client, member, other_member):
    theirs = finished_prediction(other_member, outputs=1)
    response = member_client.get(reverse("predictions:download"), {"output": [theirs.outputs.get().pk]})
    assert response.status_code == 302
