"""Outputs through the API: signed URLs to DeerWeb's stored copies, fetchable without a token until they expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from predictions import replicate
from predictions.models import Status
from tests.world import PRO, finished_prediction, make_prediction

pytestmark = pytest.mark.django_db


def test_an_output_url_answers_the_stored_file_without_a_token(api, client, member):
    done = finished_prediction(member, outputs=1)
    url = api.get(f"/replicate/v1/predictions/{done.pk}").json()["output"][0]
    client.defaults.pop("HTTP_AUTHORIZATION", None)
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content if response.streaming else [response.content]).startswith(b"\x89PNG")


def test_an_output_url_stops_answering_after_a_day_and_when_tampered_with(client, member, settings):
    done = finished_prediction(member, outputs=1)
    url = replicate.output_url_sign(done.outputs.get(), "")
    assert client.get(url).status_code == 200
    assert client.get(url.replace("/outputs/", "/outputs/x")).status_code == 404
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.API_OUTPUT_URL_TTL + 5)):
        assert client.get(url).status_code == 404


def test_an_output_whose_files_were_deleted_is_gone_and_the_prediction_says_data_removed(api, client, member):
    done = finished_prediction(member, outputs=1)
    url = replicate.output_url_sign(done.outputs.get(), "")
    done.files_deleted_at = timezone.now()
    done.save()
    assert client.get(url).status_code == 404
    body = api.get(f"/replicate/v1/predictions/{done.pk}").json()
    assert body["data_removed"] is True and body["output"] is None


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (Status.QUEUED, "starting"),
        (Status.SUBMITTING, "starting"),
        (Status.STARTING, "starting"),
        (Status.PROCESSING, "processing"),
        (Status.STORING, "processing"),
        (Status.SUCCEEDED, "succeeded"),
        (Status.FAILED, "failed"),
        (Status.CANCELED, "canceled"),
        (Status.UNKNOWN, "failed"),
    ],
)
def test_deerwebs_statuses_map_onto_replicates(ours, theirs):
    assert replicate.replicate_status(ours) == theirs


def test_an_unknown_outcome_is_failed_with_the_reason_and_no_output(api, member):
    lost = make_prediction(member, status=Status.UNKNOWN, error="No answer from DeerAPI")
    body = api.get(f"/replicate/v1/predictions/{lost.pk}").json()
    assert body["status"] == "failed" and body["output"] is None
    assert "never arrived" in body["error"] and "No answer from DeerAPI" in body["error"]


def test_a_single_output_model_answers_one_url_not_a_list(api, member):
    done = finished_prediction(member, model_id=PRO, outputs=1)
    output = api.get(f"/replicate/v1/predictions/{done.pk}").json()["output"]
    assert isinstance(output, str) and output.startswith("http://testserver/outputs/")
