"""The DeerAPI simulator, over real HTTP on loopback, through our client and raw `requests`.

No database: these tests need neither the `db` fixture nor Django settings.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from xml.etree import ElementTree

import pytest
import requests
from PIL import Image

from catalog.inputs import InputField, ModelSpec
from catalog.specs import MODELS
from deerapi import progress
from deerapi.client import (
    AuthError,
    DeerAPIClient,
    PermanentError,
    RemotePrediction,
    TransientError,
    UncertainSubmission,
)
from deerapi.simulator import SIMULATED_FAILURE, Simulator
from deerapi.simulator.images import full_size
from deerapi.simulator.validation import validate_input
from tests.world import PRO, ROOT, SCHNELL, WebhookReceiver

KEY = "sandbox-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
STARTING, PROCESSING = 0.05, 0.1


@pytest.fixture(scope="module")
def running_simulator():
    with Simulator(starting_seconds=STARTING, processing_seconds=PROCESSING) as simulator:
        yield simulator


@pytest.fixture
def sim(running_simulator):
    running_simulator.reset()
    yield running_simulator
    running_simulator.reset()


@pytest.fixture
def api(sim):
    return DeerAPIClient(base_url=sim.url, key=KEY, connect_timeout=2, read_timeout=5)


def create_url(sim: Simulator, model_id: str) -> str:
    return f"{sim.url}/replicate/v1/models/{model_id}/predictions"


def raw_create(sim: Simulator, model_id: str, data: dict, **kwargs) -> requests.Response:
    headers = kwargs.pop("headers", AUTH)
    return requests.post(create_url(sim, model_id), json={"input": data}, headers=headers, timeout=5, **kwargs)


def raw_get(sim: Simulator, prediction_id: str) -> dict:
    response = requests.get(f"{sim.url}/replicate/v1/predictions/{prediction_id}", headers=AUTH, timeout=5)
    assert response.status_code == 200
    return response.json()


def wait_until(api: DeerAPIClient, prediction_id: str, *statuses: str) -> RemotePrediction:
    deadline = time.monotonic() + 5
    while True:
        prediction = api.get_prediction(prediction_id)
        if prediction.status in statuses:
            return prediction
        assert time.monotonic() < deadline, f"still {prediction.status}"
        time.sleep(0.02)


def wait_raw(sim: Simulator, prediction_id: str, status: str) -> dict:
    deadline = time.monotonic() + 5
    while True:
        data = raw_get(sim, prediction_id)
        if data["status"] == status:
            return data
        assert time.monotonic() < deadline, f"still {data['status']}"
        time.sleep(0.02)


# --- The happy path ----------------------------------------------------------------------------


def test_a_created_prediction_progresses_to_succeeded_with_a_real_image(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer", "num_outputs": 2, "output_format": "png", "seed": 42})
    assert created.status == "starting"
    assert created.output == []

    done = wait_until(api, created.id, "succeeded")

    assert len(done.output) == 2
    assert done.metrics["image_count"] == 2
    assert done.metrics["predict_time"] == pytest.approx(PROCESSING, abs=0.01)
    assert "Using seed: 42" in done.logs
    assert done.started_at is not None and done.completed_at > done.started_at
    for url in done.output:
        response = requests.get(url, timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG"
        assert image.size == (256, 256)


def test_the_create_reply_is_a_replicate_prediction_object(sim):
    response = raw_create(sim, SCHNELL, {"prompt": "a deer"})

    assert response.status_code == 201
    data = response.json()
    assert len(data["id"]) == 26 and data["id"].isalnum() and data["id"].islower()
    assert data["model"] == SCHNELL
    assert data["version"] == "hidden"
    assert data["input"] == {"prompt": "a deer"}
    assert (data["logs"], data["output"], data["error"]) == ("", None, None)
    assert data["data_removed"] is False
    assert data["source"] == "api"
    assert data["status"] == "starting"
    assert data["created_at"].endswith("Z")
    assert data["urls"]["get"] == f"https://api.replicate.com/v1/predictions/{data['id']}"
    assert set(data["urls"]) == {"get", "cancel", "stream", "web"}


def test_a_single_output_model_answers_with_one_url_string_in_its_default_format(sim):
    created = raw_create(sim, PRO, {"prompt": "a tall deer", "aspect_ratio": "2:3"}).json()

    done = wait_raw(sim, created["id"], "succeeded")

    assert isinstance(done["output"], str)
    assert done["output"].endswith("/out-0.webp")
    response = requests.get(done["output"], timeout=5)
    assert response.headers["Content-Type"] == "image/webp"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "WEBP"
    assert image.size == (171, 256)


def test_a_list_model_defaults_to_one_output_and_jpg_is_served_as_jpeg(sim):
    created = raw_create(sim, SCHNELL, {"prompt": "a deer", "output_format": "jpg"}).json()

    done = wait_raw(sim, created["id"], "succeeded")

    assert len(done["output"]) == 1 and done["output"][0].endswith("/out-0.jpg")
    response = requests.get(done["output"][0], timeout=5)
    assert response.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).format == "JPEG"


def test_the_same_seed_and_prompt_give_the_same_image_and_a_new_index_another(sim, api):
    first = api.create_prediction(SCHNELL, {"prompt": "a deer", "seed": 7, "num_outputs": 2})
    second = api.create_prediction(SCHNELL, {"prompt": "a deer", "seed": 7})
    first_done = wait_until(api, first.id, "succeeded")
    second_done = wait_until(api, second.id, "succeeded")

    def download(url: str) -> bytes:
        return requests.get(url, timeout=5).content

    assert download(first_done.output[0]) == download(second_done.output[0])
    assert download(first_done.output[0]) != download(first_done.output[1])


# --- Full-size outputs ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_size_simulator():
    with Simulator(starting_seconds=STARTING, processing_seconds=PROCESSING, output_size="full") as simulator:
        yield simulator


def download_output(sim: Simulator, model_id: str, data: dict) -> requests.Response:
    created = raw_create(sim, model_id, data).json()
    output = wait_raw(sim, created["id"], "succeeded")["output"]
    response = requests.get(output[0] if isinstance(output, list) else output, timeout=10)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    ("model_id", "data", "size", "mime"),
    [
        (SCHNELL, {"prompt": "a deer"}, (1024, 1024), "image/webp"),
        (
            SCHNELL,
            {"prompt": "a deer", "megapixels": "0.25", "aspect_ratio": "16:9", "output_format": "png"},
            (688, 384),
            "image/png",
        ),
        (
            "black-forest-labs/flux-2-pro",
            {"prompt": "a deer", "resolution": "4 MP", "output_format": "jpg"},
            (2048, 2048),
            "image/jpeg",
        ),
    ],
)
def test_full_size_outputs_are_as_large_as_the_input_asks_in_the_format_asked(
    full_size_simulator, model_id, data, size, mime
):
    response = download_output(full_size_simulator, model_id, data)

    assert response.headers["Content-Type"] == mime
    image = Image.open(io.BytesIO(response.content))
    assert image.size == size
    assert Image.MIME[image.format] == mime
    # As heavy as a real picture's file, not a flat gradient's: more than 0.1 byte per pixel.
    assert len(response.content) > size[0] * size[1] / 10


def test_full_size_files_of_the_same_input_differ_and_each_decodes_whole(full_size_simulator):
    data = {"prompt": "a deer", "seed": 7, "output_format": "png", "aspect_ratio": "3:2"}
    first = download_output(full_size_simulator, SCHNELL, data).content
    second = download_output(full_size_simulator, SCHNELL, data).content

    assert first != second
    for content in (first, second):
        Image.open(io.BytesIO(content)).verify()  # the PNG chunks' checksums
        image = Image.open(io.BytesIO(content))
        image.load()
        assert image.size == (1248, 832)


@pytest.mark.parametrize(
    ("data", "size"),
    [
        ({"aspect_ratio": "custom", "width": 1440, "height": 960}, (1440, 960)),
        ({"width": 3000, "height": 1500}, (2048, 1024)),
        ({"size": "1024x1820"}, (1024, 1824)),
        ({"resolution": "None", "aspect_ratio": "1:1"}, (1024, 1024)),
        ({"resolution": "2 MP", "aspect_ratio": "16:9"}, (1936, 1088)),
        ({"resolution": "4 MP", "aspect_ratio": "16:9"}, (2048, 1152)),
    ],
)
def test_a_full_size_comes_from_the_inputs_size_or_its_megapixels_at_its_ratio(data, size):
    assert full_size(data) == size


def test_a_prediction_is_starting_then_processing_with_growing_logs(sim):
    # [[slow]] stretches `processing` to a second, so polling cannot miss it.
    created = raw_create(sim, SCHNELL, {"prompt": "a deer [[slow]]", "seed": 3}).json()
    assert "started_at" not in created

    early = wait_raw(sim, created["id"], "processing")
    time.sleep(PROCESSING * 5)
    later = raw_get(sim, created["id"])

    assert early["started_at"] >= early["created_at"]
    assert early["logs"].startswith("Using seed: 3\nRunning prediction\n")
    assert later["status"] == "processing"
    assert later["logs"].startswith(early["logs"])
    assert len(later["logs"]) > len(early["logs"])
    assert later["output"] is None and "completed_at" not in later


def test_logs_carry_progress_bars_or_in_plain_mode_only_the_seed_and_the_end(sim):
    with_bars = wait_raw(sim, raw_create(sim, SCHNELL, {"prompt": "a deer", "seed": 3}).json()["id"], "succeeded")
    sim.logs = "plain"
    plain = wait_raw(sim, raw_create(sim, SCHNELL, {"prompt": "a deer", "seed": 3}).json()["id"], "succeeded")

    assert "it/s]" in with_bars["logs"] and progress.progress_parse(with_bars["logs"]) is not None
    assert plain["logs"] == "Using seed: 3\nRunning prediction\nTotal safe images: 1 out of 1\n"
    assert progress.progress_parse(plain["logs"]) is None


def test_reset_returns_the_logs_to_the_mode_the_simulator_was_made_with(sim):
    sim.logs = "plain"
    sim.reset()
    assert sim.logs == "progress"
    with pytest.raises(ValueError):
        Simulator(logs="colour")


def test_any_catalog_model_is_served_including_svg_models_without_an_owner(sim, monkeypatch):
    svg_model = ModelSpec(
        id="recraftv3-svg-test",
        name="Recraft SVG (test)",
        vendor="Recraft",
        output="svg",
        price=Decimal("0.08"),
        fields=(InputField("prompt", "text", required=True), InputField("size", "enum", "1024x1024", ("1024x1024",))),
    )
    monkeypatch.setitem(MODELS, svg_model.id, svg_model)

    created = raw_create(sim, svg_model.id, {"prompt": "a deer & <friends>"}).json()
    done = wait_raw(sim, created["id"], "succeeded")

    assert isinstance(done["output"], str) and done["output"].endswith("/out-0.svg")
    response = requests.get(done["output"], timeout=5)
    assert response.headers["Content-Type"] == "image/svg+xml"
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own simulator wrote it
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.findtext("{http://www.w3.org/2000/svg}title") == "a deer & <friends>"


# --- Errors ------------------------------------------------------------------------------------


def test_a_bad_or_missing_key_is_refused_in_deerapis_error_shape(sim):
    wrong = raw_create(sim, SCHNELL, {"prompt": "x"}, headers={"Authorization": "Bearer nope"})
    missing = requests.get(f"{sim.url}/v1/models", timeout=5)

    for response in (wrong, missing):
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "message": "无效的令牌 (invalid token)",
                "type": "new_api_error",
                "code": "invalid_api_key",
            }
        }
    assert sim.stats.creates == 0
    with pytest.raises(AuthError):
        DeerAPIClient(base_url=sim.url, key="nope", connect_timeout=2, read_timeout=5).list_models()


def test_an_unknown_model_is_404_model_not_found(sim, api):
    response = raw_create(sim, "acme/not-a-model", {"prompt": "x"})

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "model_not_found"
    assert error["type"] == "invalid_request_error"
    assert "acme/not-a-model" in error["message"]
    with pytest.raises(PermanentError) as caught:
        api.create_prediction("acme/not-a-model", {"prompt": "x"})
    assert caught.value.status_code == 404


def test_invalid_input_is_422_problem_json_listing_every_invalid_field(sim):
    response = raw_create(
        sim,
        SCHNELL,
        {
            "aspect_ratio": "2:7",
            "num_outputs": 9,
            "num_inference_steps": 0,
            "go_fast": "yes",
            "output_quality": 50.5,
            "colour": "red",
        },
    )

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Input validation failed"
    assert body["status"] == 422
    kinds = {item["field"]: item["type"] for item in body["invalid_fields"]}
    assert kinds == {
        "input.aspect_ratio": "enum",
        "input.num_outputs": "number_lte",
        "input.num_inference_steps": "number_gte",
        "input.go_fast": "type",
        "input.output_quality": "type",
        "input.colour": "additional_property_not_allowed",
        "input.prompt": "required",
    }
    assert "- input.aspect_ratio: aspect_ratio must be one of the following:" in body["detail"]
    assert body["detail"].count("\n") == 7
    assert sim.stats.creates == 0


def test_the_client_turns_a_422_into_a_permanent_error_with_field_errors(sim, api):
    with pytest.raises(PermanentError) as caught:
        api.create_prediction(PRO, {"prompt": "x", "safety_tolerance": 9})

    assert caught.value.status_code == 422
    assert set(caught.value.field_errors) == {"safety_tolerance"}


def test_an_explicit_null_is_a_wrong_type_like_on_replicate(sim):
    response = raw_create(sim, PRO, {"prompt": "x", "seed": None})

    assert response.status_code == 422
    assert response.json()["invalid_fields"][0]["description"].endswith("given: null")


def test_a_body_that_is_not_json_or_has_no_input_object_is_400(sim):
    not_json = requests.post(create_url(sim, SCHNELL), data=b"{nope", headers=AUTH, timeout=5)
    no_input = requests.post(create_url(sim, SCHNELL), json={"prompt": "x"}, headers=AUTH, timeout=5)

    assert not_json.status_code == no_input.status_code == 400
    assert no_input.json()["error"]["message"]
    assert sim.stats.creates == 0


def test_file_inputs_must_be_http_or_data_urls_and_lists_respect_max_items():
    spec = ModelSpec(
        id="acme/editor",
        name="Editor",
        vendor="Acme",
        output="single",
        price=Decimal("0"),
        fields=(
            InputField("prompt", "text", required=True),
            InputField("image", "uri"),
            InputField("refs", "uri_list", max_items=2),
            InputField("strength", "number", minimum=0, maximum=1),
        ),
    )

    def problems(data: dict) -> dict[str, str]:
        return {p.field: p.type for p in validate_input(spec, {"prompt": "x", **data})}

    assert problems({"image": "https://example.com/a.png", "strength": 1}) == {}
    assert problems({"image": "data:image/png;base64,AAAA", "strength": 0.5}) == {}
    assert problems({"image": "ftp://example.com/a.png"}) == {"input.image": "format"}
    assert problems({"image": "/tmp/a.png"}) == {"input.image": "format"}
    assert problems({"strength": True}) == {"input.strength": "type"}
    assert problems({"refs": "https://example.com/a.png"}) == {"input.refs": "type"}
    assert problems({"refs": ["https://a.example/1.png", "nope"]}) == {"input.refs.1": "format"}
    too_many = ["https://a.example/1.png"] * 3
    assert problems({"refs": too_many}) == {"input.refs": "array_max_items"}


def test_an_unknown_prediction_is_404(sim, api):
    with pytest.raises(PermanentError) as caught:
        api.get_prediction("doesnotexist")
    assert caught.value.status_code == 404


# --- Injected faults ---------------------------------------------------------------------------


def test_an_injected_429_carries_retry_after_and_the_next_create_succeeds(sim, api):
    sim.inject("create", status=429, retry_after=2)

    with pytest.raises(TransientError) as caught:
        api.create_prediction(SCHNELL, {"prompt": "a deer"})

    assert caught.value.status_code == 429
    assert caught.value.retry_after == 2.0
    assert api.create_prediction(SCHNELL, {"prompt": "a deer"}).status == "starting"
    assert sim.stats.create_requests == 2
    assert sim.stats.creates == 1


def test_an_injected_500_on_get_is_transient_and_the_next_poll_works(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    sim.inject("get", status=500, count=2)

    for _ in range(2):
        with pytest.raises(TransientError) as caught:
            api.get_prediction(created.id)
        assert caught.value.status_code == 500

    assert wait_until(api, created.id, "succeeded").output
    assert sim.stats.per_prediction_gets[created.id] >= 3


def test_an_injected_500_on_create_is_uncertain(sim, api):
    sim.inject("create", status=502)

    with pytest.raises(UncertainSubmission):
        api.create_prediction(SCHNELL, {"prompt": "a deer"})
    assert sim.stats.creates == 0


def test_a_dropped_create_is_uncertain_but_the_prediction_was_created(sim, api):
    sim.inject("create", drop=True)

    with pytest.raises(UncertainSubmission):
        api.create_prediction(SCHNELL, {"prompt": "a deer"})

    assert sim.stats.creates == 1
    assert sim.stats.create_requests == 1
    [prediction_id] = sim.predictions
    assert wait_until(api, prediction_id, "succeeded").output


def test_a_get_dropped_once_is_sent_again_at_once(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    sim.inject("get", drop=True)

    assert api.get_prediction(created.id).id == created.id
    assert sim.stats.gets == 2


def test_a_get_dropped_twice_is_a_transient_error(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    sim.inject("get", drop=True, count=2)

    with pytest.raises(TransientError):
        api.get_prediction(created.id)
    assert api.get_prediction(created.id).id == created.id


def test_a_create_answered_too_slowly_is_uncertain_and_was_created(sim):
    impatient = DeerAPIClient(base_url=sim.url, key=KEY, connect_timeout=2, read_timeout=0.2)
    sim.inject("create", delay=1.0)

    started = time.monotonic()
    with pytest.raises(UncertainSubmission):
        impatient.create_prediction(SCHNELL, {"prompt": "a deer"})

    assert time.monotonic() - started < 0.9
    assert sim.stats.creates == 1


def test_a_request_held_by_a_delay_is_listed_with_its_clients_address_until_answered(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    sim.inject("get", delay=1.0)

    def held_gets() -> list:  # an earlier test's delayed create may still be held
        return [request for request in sim.held if request.route == "get"]

    with requests.Session() as session:
        answer = threading.Thread(
            target=session.get,
            args=(f"{sim.url}/replicate/v1/predictions/{created.id}",),
            kwargs={"headers": AUTH, "timeout": 5},
        )
        answer.start()
        deadline = time.monotonic() + 5
        while not held_gets() and time.monotonic() < deadline:
            time.sleep(0.01)
        [held] = held_gets()
        listed = requests.get(f"{sim.url}/_simulator/held", headers=AUTH, timeout=5).json()["held"]
        answer.join(5)

    assert held.path == f"/replicate/v1/predictions/{created.id}"
    assert held.client[0] == "127.0.0.1" and held.client[1] not in (0, sim.port)
    assert {"route": "get", "path": held.path, "client": list(held.client)} in listed
    assert held_gets() == []


def test_random_faults_meet_each_kind_at_its_rate_and_are_counted_as_the_client_saw_them():
    rates = {"get": {"error": 0.2, "drop": 0.2}}
    with Simulator(starting_seconds=STARTING, processing_seconds=PROCESSING, fault_rates=rates, fault_seed=7) as sim:
        created = raw_create(sim, SCHNELL, {"prompt": "a deer"}).json()
        answers: list[int] = []
        for _ in range(200):
            try:
                url = f"{sim.url}/replicate/v1/predictions/{created['id']}"
                answers.append(requests.get(url, headers=AUTH, timeout=5).status_code)
            except requests.ConnectionError:
                answers.append(0)

        errors = [status for status in answers if status >= 500]
        assert set(errors) <= {500, 502, 503, 504} and len(set(errors)) > 1
        assert sim.stats.injected == {"get:error": len(errors), "get:drop": answers.count(0)}
        assert 20 <= len(errors) <= 60 and 20 <= answers.count(0) <= 60
        assert answers.count(200) == 200 - len(errors) - answers.count(0)
        assert sim.stats.faults == len(errors) + answers.count(0)


def test_a_random_timeout_answers_too_late_and_the_create_it_met_still_started():
    with Simulator(fault_rates={"create": {"timeout": 1.0}}, timeout_seconds=0.5) as sim:
        impatient = DeerAPIClient(base_url=sim.url, key=KEY, connect_timeout=2, read_timeout=0.2)

        with pytest.raises(UncertainSubmission):
            impatient.create_prediction(SCHNELL, {"prompt": "a deer"})

        assert sim.stats.creates == 1 and sim.stats.injected == {"create:timeout": 1}
        patient = DeerAPIClient(base_url=sim.url, key=KEY, connect_timeout=2, read_timeout=5)
        started = time.monotonic()
        assert patient.create_prediction(SCHNELL, {"prompt": "a deer"}).id
        assert time.monotonic() - started >= 0.5


def test_a_file_download_dropped_at_random_hangs_up_until_the_rate_is_set_back_to_zero(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    [url] = wait_until(api, created.id, "succeeded").output
    sim.fault_rate("file", "drop", 1.0)

    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)

    sim.fault_rate("file", "drop", 0)
    assert requests.get(url, timeout=5).status_code == 200
    assert sim.fault_rates == {}


def test_fault_rates_refuse_unknown_routes_and_kinds_and_rates_summing_over_one(sim):
    with pytest.raises(ValueError, match="route"):
        sim.fault_rate("nowhere", "drop", 0.1)
    with pytest.raises(ValueError, match="kind"):
        sim.fault_rate("get", "slow", 0.1)
    with pytest.raises(ValueError, match="0 to 1"):
        sim.fault_rate("get", "drop", 1.5)
    sim.fault_rate("get", "drop", 0.6)
    with pytest.raises(ValueError, match="more than 1"):
        sim.fault_rate("get", "error", 0.6)
    assert sim.fault_rates == {"get": {"drop": 0.6}}


def test_reset_returns_to_the_fault_rates_made_with_and_draws_the_same_faults_again():
    rates = {"create": {"error": 0.5}}
    with Simulator(fault_rates=rates, fault_seed=3) as sim:

        def statuses() -> list[int]:
            return [raw_create(sim, SCHNELL, {"prompt": "a deer"}).status_code for _ in range(20)]

        first = statuses()
        sim.fault_rate("create", "error", 0)
        sim.reset()
        assert sim.fault_rates == rates
        assert statuses() == first and 201 in first and any(status >= 500 for status in first)


def test_a_malformed_reply_is_uncertain_on_create_and_transient_on_get(sim, api):
    sim.inject("create", malformed=True)
    with pytest.raises(UncertainSubmission):
        api.create_prediction(SCHNELL, {"prompt": "a deer"})
    [prediction_id] = sim.predictions

    sim.inject("get", malformed=True)
    response = requests.get(f"{sim.url}/replicate/v1/predictions/{prediction_id}", headers=AUTH, timeout=5)
    assert (response.status_code, response.content) == (200, b'{"id": "trunc')
    sim.inject("get", malformed=True)
    with pytest.raises(TransientError):
        api.get_prediction(prediction_id)


def test_an_injected_body_is_sent_as_it_is(sim, api):
    sim.inject("create", status=403, body={"error": {"message": "user quota is not enough"}})
    sim.inject("models", status=503, body="upstream down")

    with pytest.raises(PermanentError, match="quota"):
        api.create_prediction(SCHNELL, {"prompt": "a deer"})
    response = requests.get(f"{sim.url}/v1/models", headers=AUTH, timeout=5)
    assert (response.status_code, response.text) == (503, "upstream down")


def test_file_faults_serve_html_or_oversized_junk(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    [url] = wait_until(api, created.id, "succeeded").output
    sim.inject("file", content_type="text/html")
    sim.inject("file", oversize=300_000)

    html = requests.get(url, timeout=5)
    junk = requests.get(url, timeout=5)
    real = requests.get(url, timeout=5)

    assert html.headers["Content-Type"] == "text/html"
    assert html.content.startswith(b"<!doctype html>")
    assert junk.headers["Content-Type"] == "image/png"
    assert len(junk.content) == int(junk.headers["Content-Length"]) == 300_000
    assert Image.open(io.BytesIO(real.content)).format == "WEBP"
    assert sim.stats.file_downloads == 3


def test_inject_refuses_unknown_routes_and_file_only_options(sim):
    with pytest.raises(ValueError):
        sim.inject("list", status=500)
    with pytest.raises(ValueError):
        sim.inject("get", oversize=10)


# --- Model behaviour: failures, slowness, expiry, cancel ---------------------------------------


def test_a_fail_prompt_ends_failed_with_an_error_and_no_output(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer [[fail]]"})

    failed = wait_until(api, created.id, "failed", "succeeded")

    assert failed.status == "failed"
    assert failed.error == SIMULATED_FAILURE
    assert failed.output == []
    assert sim.completed_at(created.id) is not None


def test_fail_next_fails_the_next_predictions_with_the_given_error(sim, api):
    sim.fail_next(count=2, error="NSFW content detected")
    ids = [api.create_prediction(SCHNELL, {"prompt": "a deer"}).id for _ in range(3)]

    ends = [wait_until(api, id, "failed", "succeeded") for id in ids]

    assert [(end.status, end.error) for end in ends] == [
        ("failed", "NSFW content detected"),
        ("failed", "NSFW content detected"),
        ("succeeded", ""),
    ]


def test_a_slow_prompt_processes_ten_times_longer(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer [[slow]]"})
    time.sleep(STARTING + PROCESSING * 3)

    assert api.get_prediction(created.id).status == "processing"
    assert sim.completed_at(created.id) is None


def test_expired_files_are_404_and_the_prediction_shows_data_removed(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    [url] = wait_until(api, created.id, "succeeded").output
    running = api.create_prediction(SCHNELL, {"prompt": "later [[slow]]"})

    assert sim.expire_files() == 1

    assert requests.get(url, timeout=5).status_code == 404
    data = raw_get(sim, created.id)
    assert data["status"] == "succeeded"
    assert (data["output"], data["data_removed"]) == (None, True)
    assert raw_get(sim, running.id)["data_removed"] is False


def test_files_expire_by_themselves_after_the_file_ttl():
    with Simulator(starting_seconds=0, processing_seconds=0.05, file_ttl=0.2) as simulator:
        created = raw_create(simulator, SCHNELL, {"prompt": "a deer"}).json()
        [url] = wait_raw(simulator, created["id"], "succeeded")["output"]
        assert requests.get(url, timeout=5).status_code == 200

        time.sleep(0.25)

        assert requests.get(url, timeout=5).status_code == 404
        assert raw_get(simulator, created["id"])["data_removed"] is True


def test_cancel_stops_a_running_prediction_and_leaves_an_ended_one_alone(sim, api):
    running = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    canceled = api.cancel_prediction(running.id)
    assert canceled.status == "canceled"
    assert canceled.completed_at is not None
    time.sleep(STARTING + PROCESSING + 0.05)
    assert api.get_prediction(running.id).status == "canceled"

    finished = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    wait_until(api, finished.id, "succeeded")
    assert api.cancel_prediction(finished.id).status == "succeeded"
    with pytest.raises(PermanentError):
        api.cancel_prediction("doesnotexist")
    assert sim.stats.cancels == 3


def test_completed_at_is_wall_clock_time_of_the_end(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    assert sim.completed_at(created.id) is None

    done = wait_until(api, created.id, "succeeded")

    assert sim.completed_at(created.id) == pytest.approx(done.completed_at.timestamp(), abs=0.002)
    assert sim.completed_at(created.id) <= time.time()
    with pytest.raises(KeyError):
        sim.completed_at("doesnotexist")


def test_the_model_list_names_every_catalog_model(sim, api):
    assert api.list_models() == list(MODELS)

    data = requests.get(f"{sim.url}/v1/models", headers=AUTH, timeout=5).json()
    assert data["object"] == "list"
    for item, spec in zip(data["data"], MODELS.values(), strict=True):
        assert item["object"] == "model"
        assert item["owned_by"] == spec.vendor
        assert isinstance(item["created"], int)


# --- Control over HTTP, stats and concurrency --------------------------------------------------


def test_the_http_control_endpoints_inject_faults_fail_expire_reset_and_report_stats(sim, api):
    def control(path: str, payload: dict | None = None, headers=AUTH) -> requests.Response:
        return requests.post(f"{sim.url}/_simulator/{path}", json=payload or {}, headers=headers, timeout=5)

    assert control("reset", headers={}).status_code == 401
    assert control("faults", {"route": "create", "status": 429, "retry_after": 3}).ok
    assert control("faults", {"route": "nowhere"}).status_code == 400
    assert control("fail_next", {"count": 1, "error": "boom"}).ok

    with pytest.raises(TransientError) as caught:
        api.create_prediction(SCHNELL, {"prompt": "a deer"})
    assert caught.value.retry_after == 3.0
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    assert wait_until(api, created.id, "failed", "succeeded").error == "boom"
    assert control("expire").json()["expired"] == 1

    stats = requests.get(f"{sim.url}/_simulator/stats", headers=AUTH, timeout=5).json()
    assert stats["create_requests"] == 2
    assert stats["creates"] == 1
    assert stats["per_prediction_gets"][created.id] == stats["gets"]
    status = requests.get(f"{sim.url}/_simulator/predictions/{created.id}", headers=AUTH, timeout=5).json()
    assert status["status"] == "failed" and status["completed_at"] <= time.time()

    assert control("fault_rates", {"route": "cancel", "kind": "error", "rate": 0.25}).json()["fault_rates"] == {
        "cancel": {"error": 0.25}
    }
    assert control("fault_rates", {"route": "cancel", "kind": "error", "rate": 2}).status_code == 400
    listed = requests.get(f"{sim.url}/_simulator/predictions", headers=AUTH, timeout=5).json()
    assert listed == [{"id": created.id, "prompt": "a deer", "status": "failed"}]

    assert control("reset").ok
    assert sim.predictions == {}
    assert sim.fault_rates == {}
    assert requests.get(f"{sim.url}/_simulator/stats", headers=AUTH, timeout=5).json()["requests"] == 0


def test_stats_count_every_kind_of_request(sim, api):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"})
    [url] = wait_until(api, created.id, "succeeded").output
    requests.get(url, timeout=5)
    api.list_models()
    api.cancel_prediction(created.id)

    stats = sim.stats.as_dict()
    assert stats["creates"] == stats["create_requests"] == 1
    assert stats["file_downloads"] == stats["cancels"] == stats["model_lists"] == 1
    assert stats["gets"] == stats["per_prediction_gets"][created.id] >= 1
    assert stats["requests"] == stats["gets"] + 4


def test_a_thousand_predictions_from_several_threads_are_cheap(sim):
    ids: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        with requests.Session() as session:
            for _ in range(125):
                response = session.post(
                    create_url(sim, SCHNELL),
                    json={"input": {"prompt": "p"}},
                    headers=AUTH,
                    timeout=5,
                )
                assert response.status_code == 201
                with lock:
                    ids.append(response.json()["id"])

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(ids)) == 1000
    assert sim.stats.creates == 1000
    assert len(sim.predictions) == 1000
    assert time.monotonic() - started < 10


def test_stop_frees_the_port_and_hangs_up_kept_alive_connections():
    simulator = Simulator().start()
    session = requests.Session()
    assert session.get(f"{simulator.url}/v1/models", headers=AUTH, timeout=5).ok

    simulator.stop()
    simulator.stop()

    with pytest.raises(requests.ConnectionError):
        session.get(f"{simulator.url}/v1/models", headers=AUTH, timeout=5)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{simulator.url}/v1/models", headers=AUTH, timeout=5)


def test_the_simulator_needs_no_django_settings():
    code = (
        "import django.conf\n"
        "from deerapi.simulator import Simulator\n"
        "with Simulator() as simulator:\n"
        "    pass\n"
        "assert not django.conf.settings.configured\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.parametrize(
    "command",
    [["manage.py", "deerapi_simulator"], ["-m", "deerapi.simulator"]],
    ids=["management command", "python -m"],
)
def test_the_simulator_commands_serve_in_the_foreground_until_ctrl_c(command):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_DEBUG="true", DEERAPI_KEY="")
    process = subprocess.Popen(
        [sys.executable, *command, "--port", "0", "--key", "k1", "--processing-seconds", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, process.stderr.read()
        url = line.split(" on ")[1].split()[0]
        response = requests.get(f"{url}/v1/models", headers={"Authorization": "Bearer k1"}, timeout=5)
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Stopping" in out


def test_the_simulator_command_meets_faults_at_the_rates_it_is_given_and_refuses_a_bad_one():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-m", "deerapi.simulator", "--port", "0", "--key", "k1"]
    refused = subprocess.run([*command, "--fault-rate", "get=0.1"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "ROUTE:KIND=RATE" in refused.stderr

    process = subprocess.Popen(
        [*command, "--fault-rate", "get:error=1", "--fault-rate", "models:drop=0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().split(" on ")[1].split()[0]
        auth = {"Authorization": "Bearer k1"}
        assert requests.get(f"{url}/replicate/v1/predictions/x", headers=auth, timeout=5).status_code >= 500
        assert requests.get(f"{url}/v1/models", headers=auth, timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)


# --- A create's webhook: DeerAPI's delivery is not documented, so both answers are modes


@pytest.fixture
def receiver():
    server = WebhookReceiver().start()
    yield server
    server.stop()


def test_in_the_sent_mode_a_creates_webhook_is_posted_the_ended_prediction_once(sim, api, receiver):
    sim.webhooks = "sent"
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"}, webhook=receiver.url("/hint/1"))
    [hook] = receiver.wait_for(1)
    assert hook.path == "/hint/1"
    body = json.loads(hook.body)
    assert (body["id"], body["status"]) == (created.id, "succeeded")
    assert body["output"] == api.get_prediction(created.id).output
    time.sleep(STARTING + PROCESSING)
    assert len(receiver.received) == 1
    assert sim.stats.webhooks_sent == 1


def test_in_the_default_ignored_mode_a_webhook_is_accepted_and_never_called(sim, api, receiver):
    created = api.create_prediction(SCHNELL, {"prompt": "a deer"}, webhook=receiver.url())
    wait_until(api, created.id, "succeeded")
    time.sleep(0.2)
    assert receiver.received == []
    assert sim.stats.webhooks_sent == 0


def test_a_prediction_canceled_in_the_sent_mode_is_posted_at_the_cancel(sim, api, receiver):
    sim.webhooks = "sent"
    created = api.create_prediction(SCHNELL, {"prompt": "a deer [[slow]]"}, webhook=receiver.url())
    api.cancel_prediction(created.id)
    [hook] = receiver.wait_for(1, timeout=STARTING + PROCESSING * 5)
    assert json.loads(hook.body)["status"] == "canceled"


def test_a_webhook_that_is_not_an_http_url_is_an_invalid_field(sim):
    response = requests.post(
        f"{sim.url}/replicate/v1/models/{SCHNELL}/predictions",
        json={"input": {"prompt": "a deer"}, "webhook": "ftp://example.com/hook"},
        headers=AUTH,
        timeout=5,
    )
    assert response.status_code == 422
    assert [item["field"] for item in response.json()["invalid_fields"]] == ["webhook"]


def test_reset_returns_the_webhooks_to_the_mode_the_simulator_was_made_with(sim, api, receiver):
    sim.webhooks = "sent"
    api.create_prediction(SCHNELL, {"prompt": "a deer [[slow]]"}, webhook=receiver.url())
    sim.reset()
    assert sim.webhooks == "ignored"
    time.sleep(STARTING + PROCESSING * 10 + 0.2)
    assert receiver.received == []  # what was due is forgotten with the prediction
