"""The API's predictions: create (by model and by version), get, list, cancel, as the token's member."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import MemberQuota
from predictions.models import Prediction, Status, Via
from tests.world import PRO, PROMPT, SCHNELL, finished_prediction, make_prediction

pytestmark = pytest.mark.django_db
JSON = "application/json"


def create(api, model=SCHNELL, **body):
    return api.post(
        f"/replicate/v1/models/{model}/predictions", {"input": {"prompt": PROMPT}, **body}, content_type=JSON
    )


def test_a_prediction_created_through_the_api_is_the_members_marked_with_the_tokens_name(api, member):
    response = create(api)
    assert response.status_code == 201, response.content
    body = response.json()
    prediction = Prediction.objects.get(pk=int(body["id"]))
    assert prediction.owner == member and prediction.status == Status.QUEUED
    assert (prediction.via, prediction.via_token) == (Via.API, "laptop script")
    assert body["status"] == "starting" and body["source"] == "api" and body["model"] == SCHNELL
    assert body["input"]["prompt"] == PROMPT and body["output"] is None
    assert body["urls"]["get"] == f"http://testserver/replicate/v1/predictions/{prediction.pk}"
    assert body["urls"]["cancel"] == body["urls"]["get"] + "/cancel"
    assert body["urls"]["web"] == f"http://testserver/predictions/{prediction.pk}/"


def test_post_predictions_takes_a_version_that_names_a_model_with_or_without_a_version_part(api):
    for version in (PRO, f"{PRO}:0123abcd"):
        response = api.post(
            "/replicate/v1/predictions", {"version": version, "input": {"prompt": "x"}}, content_type=JSON
        )
        assert response.status_code == 201, response.content
        assert response.json()["model"] == PRO


def test_an_unknown_model_is_404_and_a_missing_version_422(api):
    assert create(api, "acme/nope").status_code == 404
    response = api.post("/replicate/v1/predictions", {"input": {"prompt": "x"}}, content_type=JSON)
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"


def test_a_bad_input_is_422_with_each_invalid_field(api):
    response = create(api, input={"prompt": PROMPT, "num_outputs": 99})
    assert response.status_code == 422
    body = response.json()
    assert body["title"] == "Input validation failed" and body["status"] == 422
    assert [field["field"] for field in body["invalid_fields"]] == ["input.num_outputs"]
    assert not Prediction.objects.exists()


def test_a_body_that_is_not_json_is_400(api):
    response = api.post(f"/replicate/v1/models/{SCHNELL}/predictions", "{not json", content_type=JSON)
    assert response.status_code == 400 and response.json()["status"] == 400


def test_a_budget_that_refuses_the_prediction_answers_402_and_the_in_flight_limit_429(api, member):
    MemberQuota.objects.create(user=member, budget=Decimal("0.001"))
    response = create(api)
    assert response.status_code == 402 and "budget" in response.json()["detail"].lower()
    MemberQuota.objects.filter(user=member).update(budget=None, max_in_flight=1)
    assert create(api).status_code == 201
    response = create(api)
    assert response.status_code == 429 and response["Retry-After"]


def test_a_model_the_member_may_not_use_is_403(api, member):
    MemberQuota.objects.create(user=member, allowed_models=[PRO])
    assert create(api).status_code == 403


def test_get_answers_the_members_own_prediction_and_404_for_anyone_elses(api, member, other_member):
    mine, theirs = make_prediction(member), make_prediction(other_member)
    assert api.get(f"/replicate/v1/predictions/{mine.pk}").json()["id"] == str(mine.pk)
    assert api.get(f"/replicate/v1/predictions/{theirs.pk}").status_code == 404
    assert api.post(f"/replicate/v1/predictions/{theirs.pk}/cancel").status_code == 404
    assert api.get("/replicate/v1/predictions/nope").status_code == 404


def test_a_succeeded_prediction_shows_its_stored_outputs_and_no_error(api, member):
    done = finished_prediction(member, outputs=2)
    body = api.get(f"/replicate/v1/predictions/{done.pk}").json()
    assert body["status"] == "succeeded" and body["error"] is None and body["completed_at"]
    assert len(body["output"]) == 2 and all(url.startswith("http://testserver/outputs/") for url in body["output"])


def test_a_prediction_made_in_the_browser_is_listed_and_readable_with_source_web(api, member):
    web = make_prediction(member)
    body = api.get(f"/replicate/v1/predictions/{web.pk}").json()
    assert body["source"] == "web"
    assert [row["id"] for row in api.get("/replicate/v1/predictions").json()["results"]] == [str(web.pk)]


def test_cancel_stops_a_queued_prediction(api, member):
    queued = make_prediction(member)
    response = api.post(f"/replicate/v1/predictions/{queued.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "canceled"


def test_the_list_is_newest_first_and_pages_both_ways_with_cursors(api, member, monkeypatch):
    from api import services

    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    start = timezone.now() - timedelta(hours=1)
    made = [make_prediction(member, created_at=start + timedelta(minutes=i)) for i in range(5)]
    newest_first = [str(p.pk) for p in reversed(made)]

    first = api.get("/replicate/v1/predictions").json()
    assert [r["id"] for r in first["results"]] == newest_first[:2] and first["previous"] is None
    second = api.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == newest_first[2:4]
    third = api.get(second["next"]).json()
    assert [r["id"] for r in third["results"]] == newest_first[4:] and third["next"] is None
    back = api.get(third["previous"]).json()
    assert [r["id"] for r in back["results"]] == newest_first[2:4]
    assert [r["id"] for r in api.get(back["previous"]).json()["results"]] == newest_first[:2]


def test_the_list_filters_by_creation_time(api, member):
    old = make_prediction(member, created_at=timezone.now() - timedelta(days=3))
    new = make_prediction(member)
    since = (timezone.now() - timedelta(days=1)).isoformat()
    response = api.get("/replicate/v1/predictions", {"created_after": since})
    assert [r["id"] for r in response.json()["results"]] == [str(new.pk)]
    response = api.get("/replicate/v1/predictions", {"created_before": since})
    assert [r["id"] for r in response.json()["results"]] == [str(old.pk)]
    assert api.get("/replicate/v1/predictions", {"created_after": "yesterday"}).status_code == 400
    assert api.get("/replicate/v1/predictions", {"cursor": "garbage"}).status_code == 400


def test_the_list_reads_a_page_in_a_bounded_number_of_queries(api, member, django_assert_max_num_queries):
    for _ in range(30):
        finished_prediction(member, outputs=2)
    with django_assert_max_num_queries(8):
        assert len(api.get("/replicate/v1/predictions").json()["results"]) == 30


def test_history_and_the_detail_page_mark_an_api_prediction_with_the_tokens_name(api, member_client):
    created = create(api).json()
    history = member_client.get("/predictions/").content.decode()
    assert "API · laptop script" in history
    detail = member_client.get(f"/predictions/{created['id']}/").content.decode()
    assert "the API, with the token “laptop script”" in detail


def test_a_nul_character_in_the_body_is_422_not_a_server_error(api):
    for body in ('{"version": "a\\u0000b", "input": {}}', '{"input": {"prompt": "a\\u0000b"}}'):
        url = "/replicate/v1/predictions" if "version" in body else f"/replicate/v1/models/{SCHNELL}/predictions"
        response = api.post(url, body, content_type="application/json")
        assert response.status_code == 422 and "NUL" in response.json()["detail"]
    escaped = api.post(
        f"/replicate/v1/models/{SCHNELL}/predictions",
        '{"input": {"prompt": "a \\\\u0000 b"}}',
        content_type="application/json",
    )
    assert escaped.status_code == 201, "a backslash then u0000 is text, not NUL"
