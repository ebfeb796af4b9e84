"""Models to introspect, and files to use as image inputs."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import specs as catalog
from catalog.models import ModelConfig
from predictions.models import InputImage, Prediction
from tests.world import KONTEXT, PROMPT, SCHNELL, png

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_the_models_list_has_every_enabled_model_with_its_input_schema(api):
    ModelConfig.objects.create(model_id=SCHNELL, enabled=False)
    results = api.get("/replicate/v1/models").json()["results"]
    ids = [f"{m['owner']}/{m['name']}".lstrip("/") for m in results]
    assert SCHNELL not in ids and len(ids) == len(catalog.MODELS) - 1
    schema = results[0]["latest_version"]["openapi_schema"]["components"]["schemas"]["Input"]
    assert "prompt" in schema["properties"] and "prompt" in schema["required"]


def test_a_model_is_described_with_its_input_as_an_openapi_schema(api):
    body = api.get(f"/replicate/v1/models/{SCHNELL}").json()
    assert (body["owner"], body["name"]) == ("black-forest-labs", "flux-schnell")
    props = body["latest_version"]["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
    assert props["num_outputs"]["type"] == "integer" and props["num_outputs"]["maximum"] == 4
    assert props["aspect_ratio"]["enum"][0] == "1:1"
    output = body["latest_version"]["openapi_schema"]["components"]["schemas"]["Output"]
    assert output["type"] == "array"
    assert api.get("/replicate/v1/models/acme/nope").status_code == 404


def test_a_model_id_without_an_owner_is_found_too(api):
    ownerless = next(model_id for model_id in catalog.MODELS if "/" not in model_id)
    body = api.get(f"/replicate/v1/models/{ownerless}").json()
    assert (body["owner"], body["name"]) == ("", ownerless)


def upload(api, data: bytes, name: str = "photo.png"):
    return api.post("/replicate/v1/files", {"content": SimpleUploadedFile(name, data, "image/png")})


def test_an_uploaded_file_becomes_an_input_image_of_the_prediction_that_uses_it(api, member):
    response = upload(api, png((64, 64)))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png" and body["size"] > 0 and len(body["checksums"]["sha256"]) == 64
    assert api.get(body["urls"]["get"]).json()["id"] == body["id"]

    created = api.post(
        f"/replicate/v1/models/{KONTEXT}/predictions",
        {"input": {"prompt": "make it blue", "input_image": body["urls"]["get"]}},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    prediction = Prediction.objects.get(pk=int(created.json()["id"]))
    assert list(prediction.input_images.all()) == [InputImage.objects.get(pk=int(body["id"]))]
    assert prediction.input["input_image"].startswith("data:image/png;base64,")
    assert api.delete(body["urls"]["get"]).status_code == 409


def test_a_file_that_is_not_an_image_is_422_and_another_members_file_404(api, member, other_member):
    assert upload(api, b"not an image", "notes.txt").status_code == 422
    assert api.post("/replicate/v1/files").status_code == 422
    theirs = InputImage.objects.create(owner=other_member, content_type="image/png", size=10, file="inputs/x.png")
    assert api.get(f"/replicate/v1/files/{theirs.pk}").status_code == 404
    response = api.post(
        f"/replicate/v1/models/{KONTEXT}/predictions",
        {"input": {"prompt": "x", "input_image": f"http://testserver/replicate/v1/files/{theirs.pk}"}},
        content_type=JSON,
    )
    assert response.status_code == 422


def test_an_unused_file_can_be_deleted(api):
    body = upload(api, png()).json()
    assert api.delete(body["urls"]["get"]).status_code == 204
    assert api.get(body["urls"]["get"]).status_code == 404


def test_the_openapi_document_is_served_without_a_token(client):
    doc = client.get("/replicate/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/v1/predictions" in doc["paths"]


def test_the_files_list_reads_a_page_in_a_bounded_number_of_queries_without_opening_the_files(
    api, django_assert_max_num_queries
):
    digests = {upload(api, png(color=color)).json()["checksums"]["sha256"] for color in ("red", "green", "blue")}
    with django_assert_max_num_queries(3):
        results = api.get("/replicate/v1/files").json()["results"]
    assert {r["checksums"]["sha256"] for r in results} == digests and all(r["expires_at"] for r in results)


def test_a_path_the_api_does_not_have_is_a_json_404_not_the_sites_page(api):
    response = api.get("/replicate/v1/trainings")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert "/replicate/v1/trainings" in response.json()["detail"]


def test_a_models_one_version_is_read_by_its_id_and_names_the_model_in_a_create(api):
    version = api.get(f"/replicate/v1/models/{SCHNELL}").json()["latest_version"]["id"]
    assert len(version) == 64 and int(version, 16) >= 0
    assert api.get(f"/replicate/v1/models/{SCHNELL}/versions/{version}").json()["id"] == version
    assert [v["id"] for v in api.get(f"/replicate/v1/models/{SCHNELL}/versions").json()["results"]] == [version]
    assert api.get(f"/replicate/v1/models/{SCHNELL}/versions/{'0' * 64}").status_code == 404

    created = api.post(
        "/replicate/v1/predictions", {"version": version, "input": {"prompt": PROMPT}}, content_type="application/json"
    )
    assert created.status_code == 201 and created.json()["model"] == SCHNELL
    unknown = api.post(
        "/replicate/v1/predictions", {"version": "f" * 64, "input": {"prompt": PROMPT}}, content_type="application/json"
    )
    assert unknown.status_code == 404 and "version id" in unknown.json()["detail"]
