"""Stored files in an S3-compatible bucket (DEERWEB_S3_BUCKET), against a real S3 API server (moto's):
outputs, thumbnails and uploads go to the bucket, and DeerWeb streams them back only after its
permission check, with the same safe headers as from local disk."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from deerapi.simulator.state import FetchedInput
from predictions import pipeline, replicate, storing, uploads
from predictions.models import ReviewState, Status
from reviews import services as reviews
from tests.world import FILE_POLICY, PROMPT, RECRAFT_SVG, finished_prediction, made_with_upload, wait_until

pytestmark = pytest.mark.django_db
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><script>alert(1)</script></svg>'


def test_a_predictions_outputs_and_thumbnails_are_stored_in_the_bucket_not_on_disk(s3, member, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)  # empty: files of earlier tests (ids repeat on SQLite) do not count
    prediction = finished_prediction(member, outputs=2)
    names = [name for o in prediction.outputs.order_by("index") for name in (o.file.name, o.thumbnail.name)]
    assert s3.names() == sorted(names)
    assert not any((Path(settings.MEDIA_ROOT) / name).exists() for name in names)


def test_the_owner_gets_an_output_streamed_from_the_bucket_and_another_member_gets_404(
    s3, client, member, other_member
):
    prediction = finished_prediction(member)
    output = prediction.outputs.get()
    url = reverse("predictions:output", args=[prediction.pk, 0])

    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == s3.read(output.file.name)
    assert response["Content-Length"] == str(output.size)
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == FILE_POLICY

    client.force_login(other_member)
    assert client.get(url).status_code == 404
    assert client.get(reverse("predictions:thumbnail", args=[prediction.pk, 0])).status_code == 404


def test_a_thumbnail_comes_from_the_bucket_as_webp(s3, member_client, member):
    prediction = finished_prediction(member)
    response = member_client.get(reverse("predictions:thumbnail", args=[prediction.pk, 0]))
    assert response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content) == s3.read(prediction.outputs.get().thumbnail.name)


def test_an_svg_stored_in_the_bucket_is_served_sandboxed_so_its_script_cannot_run(
    s3, member_client, member, monkeypatch
):
    prediction = finished_prediction(
        member,
        model_id=RECRAFT_SVG,
        outputs=0,
        status=Status.STORING,
        remote_output=["https://files.example/out-0.svg"],
        next_poll_at=timezone.now(),
    )
    monkeypatch.setattr(storing, "_download", lambda url: (SVG, "image/svg+xml"))
    storing.prediction_store_outputs(prediction.pk)
    output = prediction.outputs.get()
    assert s3.names() == [output.file.name]

    response = member_client.get(reverse("predictions:output", args=[prediction.pk, 0]))
    assert b"".join(response.streaming_content) == SVG
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == FILE_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_download_from_the_bucket_keeps_its_file_name_and_carries_its_metadata(s3, member_client, member):
    prediction = finished_prediction(member)
    output = prediction.outputs.get()
    stored = s3.read(output.file.name)
    response = member_client.get(reverse("predictions:output", args=[prediction.pk, 0]) + "?download=1")
    assert response["Content-Disposition"] == f'attachment; filename="deerweb-{prediction.pk}-1.png"'
    assert Image.open(io.BytesIO(response.getvalue())).text["parameters"].startswith(PROMPT + "\n")
    assert s3.read(output.file.name) == stored
    assert hashlib.sha256(stored).hexdigest() == output.checksum


def test_the_apis_signed_output_url_streams_the_file_from_the_bucket(s3, client, member):
    output = finished_prediction(member).outputs.get()
    response = client.get(replicate.output_url_sign(output, ""))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == s3.read(output.file.name)
    assert response["Content-Security-Policy"] == FILE_POLICY


def test_a_file_missing_from_the_bucket_is_404_not_an_error(s3, member_client, member):
    prediction = finished_prediction(member)
    s3.client.delete_object(Bucket=s3.name, Key=f"{s3.prefix}/{prediction.outputs.get().file.name}")
    assert member_client.get(reverse("predictions:output", args=[prediction.pk, 0])).status_code == 404


def test_deleting_a_rejected_predictions_files_removes_them_from_the_bucket(
    s3, member, admin_user, django_capture_on_commit_callbacks
):
    prediction = finished_prediction(member, review_state=ReviewState.REJECTED, review_reason="no")
    assert len(s3.names()) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert reviews.prediction_files_delete(prediction, by=admin_user)
    assert s3.names() == []


@pytest.mark.django_db(transaction=True)
def test_an_image_uploaded_through_the_form_goes_to_the_bucket_and_deerapi_reads_it_from_deerweb(
    s3, live_server, simulator, client, member, other_member, settings, monkeypatch
):
    settings.PUBLIC_URL = live_server.url
    monkeypatch.setattr(uploads, "INLINE_MAX_BYTES", 0)  # every upload by its public URL
    monkeypatch.setattr(simulator, "fetch_inputs", True)

    prediction = made_with_upload(client, member)
    image = prediction.input_images.get()
    assert s3.names() == [image.file.name]
    assert hashlib.sha256(s3.read(image.file.name)).hexdigest() == image.sha256

    pipeline.prediction_submit(prediction.pk)  # here, unless a worker left running took it first
    wait_until(lambda: simulator.fetched_inputs, what="DeerAPI reading the image")
    url = f"{live_server.url}/inputs/{image.token}/"
    assert simulator.fetched_inputs == [FetchedInput(url, 200, "image/jpeg", image.sha256)]

    page_link = reverse("predictions:input", args=[prediction.pk, image.pk])
    assert hashlib.sha256(b"".join(client.get(page_link).streaming_content)).hexdigest() == image.sha256
    client.force_login(other_member)
    assert client.get(page_link).status_code == 404
