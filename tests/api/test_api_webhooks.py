"""Webhooks asked for through the API: checked, kept encrypted, signed with the member's secret."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from predictions.models import Prediction
from tests.world import PROMPT, SCHNELL
from webhooks.models import WebhookSubscription

pytestmark = pytest.mark.django_db
JSON = "application/json"
CREATE = f"/replicate/v1/models/{SCHNELL}/predictions"


def test_a_webhook_on_create_is_subscribed_with_the_events_asked_for_and_its_url_never_stored_plainly(
    api, webhook_receiver
):
    url = webhook_receiver.url("/hook?secret=s3cret")
    response = api.post(
        CREATE, {"input": {"prompt": PROMPT}, "webhook": url, "webhook_events_filter": ["completed"]}, content_type=JSON
    )
    assert response.status_code == 201, response.content
    subscription = WebhookSubscription.objects.get(prediction_id=int(response.json()["id"]))
    assert subscription.events == ["completed"] and subscription.host == "127.0.0.1"
    assert "s3cret" not in repr(WebhookSubscription.objects.values().get())


def test_a_webhook_without_an_events_filter_gets_replicates_default_output_and_completed(api, webhook_receiver):
    response = api.post(CREATE, {"input": {"prompt": PROMPT}, "webhook": webhook_receiver.url()}, content_type=JSON)
    assert response.status_code == 201, response.content
    subscription = WebhookSubscription.objects.get(prediction_id=int(response.json()["id"]))
    assert subscription.events == ["output", "completed"]


def test_a_webhook_that_is_not_a_string_or_a_filter_that_is_not_a_list_is_422_on_its_own_field(api):
    for body, field in (
        ({"webhook": 42}, "webhook"),
        ({"webhook": "http://127.0.0.1:9/hook", "webhook_events_filter": "completed"}, "webhook_events_filter"),
    ):
        response = api.post(CREATE, {"input": {"prompt": PROMPT}, **body}, content_type=JSON)
        assert response.status_code == 422 and response.json()["invalid_fields"][0]["field"] == field


def test_a_webhook_to_a_private_address_or_an_unknown_event_is_422_and_nothing_is_created(api):
    response = api.post(CREATE, {"input": {"prompt": PROMPT}, "webhook": "http://10.0.0.1/hook"}, content_type=JSON)
    assert response.status_code == 422 and response.json()["invalid_fields"][0]["field"] == "webhook"
    response = api.post(
        CREATE,
        {"input": {"prompt": PROMPT}, "webhook": "http://127.0.0.1:9/hook", "webhook_events_filter": ["finished"]},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json()["invalid_fields"][0]["field"] == "webhook_events_filter"
    assert not Prediction.objects.exists()


def test_the_default_secret_is_the_members_and_verifies_what_deerweb_signs(api, member):
    key = api.get("/replicate/v1/webhooks/default/secret").json()["key"]
    assert key.startswith("whsec_")
    from webhooks import services

    assert services.webhook_secret_for(member) == key
    Webhook(key)  # a valid Standard Webhooks secret
