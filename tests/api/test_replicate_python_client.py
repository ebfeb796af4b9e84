"""The official Python client (`replicate`, unmodified) against a live DeerWeb with a real worker.

Over plain HTTP the client hands outputs back as URL strings (it wraps only https: URLs as
FileOutput); they must fetch without the token all the same."""

from __future__ import annotations

import io

import httpx
import pytest
import replicate
from replicate.exceptions import ReplicateError

from predictions.models import REMOTE, InputImage, Prediction, Via
from tests.world import KONTEXT, PRO, PROMPT, SCHNELL, png, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def client(worker, live_server, member_token) -> replicate.Client:
    return replicate.Client(api_token=member_token, base_url=f"{live_server.url}/replicate")


def fetched(url: str) -> bytes:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, url
    return response.content


def test_run_waits_for_the_stored_images_and_their_urls_fetch_without_the_token(client, member):
    output = client.run(SCHNELL, input={"prompt": PROMPT, "num_outputs": 2})
    assert isinstance(output, list) and len(output) == 2
    assert all(fetched(url)[:4] in (b"RIFF", b"\x89PNG") for url in output)
    prediction = Prediction.objects.get()
    assert prediction.owner == member and prediction.via == Via.API and prediction.status == "succeeded"


def test_run_with_a_pinned_version_runs_that_model(client):
    version = client.models.get(SCHNELL).latest_version.id
    output = client.run(f"{SCHNELL}:{version}", input={"prompt": PROMPT})
    assert len(output) == 1 and fetched(output[0])


def test_run_without_waiting_polls_until_done(client):
    output = client.run(PRO, input={"prompt": PROMPT}, wait=False)
    assert isinstance(output, str) and fetched(output)


def test_predictions_create_get_wait_list_and_cancel(client):
    created = client.predictions.create(model=SCHNELL, input={"prompt": PROMPT})
    assert created.status == "starting"
    assert Prediction.objects.get(pk=int(created.id)).via == Via.API
    assert client.predictions.get(created.id).id == created.id
    created.wait()
    assert created.status == "succeeded" and created.output

    slow = client.predictions.create(model=SCHNELL, input={"prompt": f"[[slow]] {PROMPT}"})
    wait_for(Prediction.objects.get(pk=int(slow.id)), REMOTE)  # at DeerAPI, where a cancel goes
    client.predictions.cancel(slow.id)
    slow.wait()
    assert slow.status == "canceled"

    page = client.predictions.list()
    assert [p.id for p in page.results] == [slow.id, created.id]


def test_a_version_naming_a_model_works_for_ids_without_an_owner(client):
    created = client.predictions.create(version=PRO, input={"prompt": PROMPT})
    created.wait()
    assert created.status == "succeeded"


def test_models_get_gives_the_input_schema(client):
    model = client.models.get(SCHNELL)
    schema = model.latest_version.openapi_schema["components"]["schemas"]["Input"]
    assert schema["properties"]["prompt"]["type"] == "string"


def test_an_open_file_as_an_input_is_uploaded_and_used(client, member):
    output = client.run(KONTEXT, input={"prompt": "make it blue", "input_image": io.BytesIO(png((64, 64)))})
    assert fetched(output)
    image = InputImage.objects.get(owner=member)
    assert list(image.predictions.values_list("model_id", flat=True)) == [KONTEXT]


def test_a_bad_input_raises_the_clients_own_error_with_replicates_detail(client):
    with pytest.raises(ReplicateError) as raised:
        client.predictions.create(model=SCHNELL, input={"prompt": PROMPT, "num_outputs": 99})
    assert raised.value.status == 422 and "num_outputs" in str(raised.value.detail)


def test_a_bad_token_raises_401(live_server):
    with pytest.raises(ReplicateError) as raised:
        replicate.Client(api_token="dwt_" + "x" * 40, base_url=f"{live_server.url}/replicate").models.get(SCHNELL)
    assert raised.value.status == 401
