"""The pipeline with stored files in an S3-compatible bucket, end to end: a real worker standing for
one on another host (a disk of its own, the bucket named by DEERWEB_S3_* in its environment), the
DeerAPI simulator, and moto's S3 API server. Nothing here is mocked."""

import hashlib

import pytest
from django.urls import reverse

from deerapi.simulator.state import FetchedInput
from predictions import uploads
from predictions.models import Status
from tests.world import made_with_upload, submit, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_worker_on_another_host_stores_outputs_in_the_bucket_and_the_web_serves_them_after_its_check(
    s3_worker, s3, simulator, client, member, other_member, tmp_path
):
    prediction = wait_for(submit(member, num_outputs=2, output_format="png"), Status.SUCCEEDED)

    outputs = list(prediction.outputs.order_by("index"))
    assert s3.names() == sorted(name for o in outputs for name in (o.file.name, o.thumbnail.name))
    worker_disk = tmp_path / "worker-disk"
    assert not worker_disk.exists() or not any(p.is_file() for p in worker_disk.rglob("*"))
    client.force_login(member)
    for output in outputs:
        response = client.get(reverse("predictions:output", args=[prediction.pk, output.index]))
        data = b"".join(response.streaming_content)
        assert data == s3.read(output.file.name)
        assert hashlib.sha256(data).hexdigest() == output.checksum
    client.force_login(other_member)
    assert client.get(reverse("predictions:output", args=[prediction.pk, 0])).status_code == 404


def test_an_image_uploaded_through_the_form_reaches_deerapi_from_the_bucket_and_the_prediction_succeeds(
    s3_worker, s3, live_server, simulator, client, member, settings, monkeypatch
):
    settings.PUBLIC_URL = live_server.url
    monkeypatch.setattr(uploads, "INLINE_MAX_BYTES", 0)  # every upload by its public URL
    monkeypatch.setattr(simulator, "fetch_inputs", True)

    prediction = wait_for(made_with_upload(client, member), Status.SUCCEEDED)

    image = prediction.input_images.get()
    output = prediction.outputs.get()
    url = f"{live_server.url}/inputs/{image.token}/"
    assert simulator.fetched_inputs == [FetchedInput(url, 200, "image/jpeg", image.sha256)]
    assert s3.names() == sorted([image.file.name, output.file.name, output.thumbnail.name])
