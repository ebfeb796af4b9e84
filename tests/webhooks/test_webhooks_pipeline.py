"""Webhooks end to end: a real worker process runs the prediction at the DeerAPI simulator and
delivers its webhooks to a receiver on 127.0.0.1, signed, with the final Replicate-shaped body."""

import pytest
import standardwebhooks
from django.conf import settings

from predictions.models import Status
from predictions.replicate import prediction_as_replicate
from tests.world import submit_with_webhook, wait_for, wait_until
from webhooks.models import Outcome, WebhookDelivery
from webhooks.services import webhook_secret_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_prediction_with_a_webhook_sends_start_and_completed_signed_with_the_final_body(
    worker, simulator, member, member_client, webhook_receiver
):
    prediction = submit_with_webhook(member, webhook_receiver.url("/deerweb"), events=("start", "completed"))
    prediction = wait_for(prediction, Status.SUCCEEDED)
    wait_until(lambda: WebhookDelivery.objects.filter(event="completed").exists(), what="the completed delivery")
    wait_until(lambda: WebhookDelivery.objects.filter(event="start").exists(), what="the start delivery")

    secret = webhook_secret_for(member)
    bodies = [standardwebhooks.Webhook(secret).verify(item.body, item.headers) for item in webhook_receiver.received]
    assert len(bodies) == 2, "one message per event"
    final = [body for body in bodies if body["status"] == "succeeded"]
    assert final, f"no message carried the final state: {[body['status'] for body in bodies]}"
    expected = prediction_as_replicate(prediction, settings.WEBHOOK_BASE_URL)
    assert {k: v for k, v in final[-1].items() if k != "output"} == {k: v for k, v in expected.items() if k != "output"}
    outputs = final[-1]["output"]
    assert outputs and all(url.startswith(settings.WEBHOOK_BASE_URL + "/outputs/") for url in outputs)
    assert len({item.headers["webhook-id"] for item in webhook_receiver.received}) == 2

    attempts = set(WebhookDelivery.objects.values_list("event", "attempt", "status_code", "outcome"))
    assert attempts == {("start", 1, 200, Outcome.DELIVERED), ("completed", 1, 200, Outcome.DELIVERED)}
    html = member_client.get(prediction.get_absolute_url()).content.decode()
    assert 'data-event="start" data-status-code="200"' in html
    assert 'data-event="completed" data-status-code="200"' in html


def test_a_receiver_that_fails_at_first_gets_the_message_again_from_the_worker(
    worker, simulator, member, webhook_receiver
):
    webhook_receiver.answer(503)
    prediction = submit_with_webhook(member, webhook_receiver.url(), events=("completed",))
    wait_for(prediction, Status.SUCCEEDED)
    wait_until(lambda: WebhookDelivery.objects.filter(outcome=Outcome.DELIVERED).exists(), timeout=30, what="a retry")
    first, second = webhook_receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert list(WebhookDelivery.objects.order_by("attempt").values_list("status_code", flat=True)) == [503, 200]
