"""DeerAPI misbehaving: every fault a real worker meets, through the simulator over HTTP.

The rule under test: a create is sent again only when DeerAPI certainly did not
take it; when that is unclear the prediction says so instead of paying twice.
"""

import time

import pytest
from django.utils import timezone

from predictions import services
from predictions.models import Prediction, Prompt, Status
from tests.world import submit, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
DEERAPI_ERROR = {"error": {"message": "upstream saturated", "type": "new_api_error"}}


def test_429_with_retry_after_on_polls_is_waited_out(worker, simulator, member):
    simulator.inject("get", status=429, count=2, retry_after=1)
    prediction = wait_for(submit(member), Status.SUCCEEDED, timeout=40)
    assert simulator.stats.creates == 1
    assert prediction.outputs.count() == 1


def test_a_burst_of_503_on_creates_is_retried_until_deerapi_takes_it(worker, simulator, member):
    simulator.inject("create", status=503, count=2, body=DEERAPI_ERROR)
    prediction = wait_for(submit(member), Status.SUCCEEDED, timeout=40)
    assert prediction.deerapi_id
    assert simulator.stats.create_requests == 3
    assert simulator.stats.creates == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_gateway_error_on_a_create_is_unknown_and_not_sent_again(worker, simulator, member, status):
    simulator.inject("create", status=status, body=DEERAPI_ERROR)
    prediction = wait_for(submit(member), Status.UNKNOWN)
    time.sleep(2)
    assert simulator.stats.create_requests == 1
    assert f"answered {status}" in prediction.error


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_burst_of_server_errors_on_polls_is_ridden_out(worker, simulator, member, status):
    simulator.inject("get", status=status, count=3, body=DEERAPI_ERROR)
    prediction = wait_for(submit(member), Status.SUCCEEDED, timeout=40)
    assert simulator.stats.creates == 1
    assert prediction.outputs.count() == 1


def test_a_create_that_times_out_is_unknown_with_exactly_one_create(worker, simulator, member):
    simulator.inject("create", delay=5)  # the worker's read timeout is 3 s
    prediction = wait_for(submit(member), Status.UNKNOWN, timeout=20)
    time.sleep(2)
    assert simulator.stats.create_requests == 1
    assert simulator.stats.creates == 1
    assert "did not answer the create in time" in prediction.error


def test_a_poll_that_times_out_is_tried_again(worker, simulator, member):
    simulator.inject("get", delay=5)
    prediction = wait_for(submit(member), Status.SUCCEEDED, timeout=40)
    assert simulator.stats.creates == 1
    assert prediction.poll_count >= 2


def test_a_rejected_key_fails_the_prediction_saying_so(worker, simulator, member):
    simulator.inject("create", status=401)
    prediction = wait_for(submit(member), Status.FAILED)
    assert "DeerAPI key rejected" in prediction.error
    assert simulator.stats.creates == 0


def test_a_model_deerapi_does_not_know_fails_with_its_message(worker, simulator, member):
    # A model DeerWeb still offers but DeerAPI has retired.
    prompt = Prompt.objects.create(owner=member, text="x")
    prediction = Prediction.objects.create(
        owner=member,
        prompt=prompt,
        model_id="black-forest-labs/flux-retired",
        input={"prompt": "x"},
        next_poll_at=timezone.now(),
    )
    services.enqueue("submit", prediction.pk)
    prediction = wait_for(prediction, Status.FAILED)
    assert "not found" in prediction.error
    assert simulator.stats.creates == 0


def test_a_malformed_reply_to_a_create_is_unknown(worker, simulator, member):
    simulator.inject("create", malformed=True)
    prediction = wait_for(submit(member), Status.UNKNOWN)
    assert simulator.stats.creates == 1
    assert "could not be read" in prediction.error


def test_a_malformed_reply_to_a_poll_is_tried_again(worker, simulator, member):
    simulator.inject("get", malformed=True, count=2)
    prediction = wait_for(submit(member), Status.SUCCEEDED, timeout=40)
    assert prediction.outputs.count() == 1


def test_an_output_url_that_returns_html_fails_the_prediction(worker, simulator, member):
    simulator.inject("file", content_type="text/html", count=5)
    prediction = wait_for(submit(member), Status.FAILED)
    assert "not an image" in prediction.error
    assert not prediction.outputs.exists()


def test_an_output_larger_than_the_limit_is_refused(worker, simulator, member):
    simulator.inject("file", oversize=3_000_000, count=5)  # the worker's limit is 2 MB
    prediction = wait_for(submit(member), Status.FAILED)
    assert "larger than" in prediction.error
    assert not prediction.outputs.exists()
