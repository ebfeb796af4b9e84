"""Sending one webhook message, in this process: its body and signature, which answers are
tried again, the connection to the checked address, and what is kept of each attempt."""

import json
import logging
from datetime import timedelta

import pytest
import standardwebhooks
from django.conf import settings
from django.db import connection
from django.utils import timezone

from predictions.replicate import prediction_as_replicate
from tests.world import StubResolver, WebhookReceiver, self_signed_certificate, submit_with_webhook
from webhooks import delivery
from webhooks.models import Outcome, WebhookDelivery, WebhookOutbox
from webhooks.services import webhook_events_due, webhook_secret_for

pytestmark = pytest.mark.django_db

SECRET_QUERY = "token=s3cret-in-the-query"


def due_row(prediction, event="completed") -> WebhookOutbox:
    webhook_events_due(prediction.pk, [event])
    return WebhookOutbox.objects.get(subscription__prediction=prediction, event=event)


def due_now(row: WebhookOutbox) -> None:
    """As if the wait before its retry were over."""
    WebhookOutbox.objects.filter(pk=row.pk).update(due_at=timezone.now())


def test_the_body_is_the_prediction_in_replicates_shape_signed_with_the_members_secret(member, webhook_receiver):
    prediction = submit_with_webhook(member, webhook_receiver.url())
    assert delivery.webhook_deliver(due_row(prediction).pk) == Outcome.DELIVERED
    (received,) = webhook_receiver.wait_for(1)
    body = standardwebhooks.Webhook(webhook_secret_for(member)).verify(received.body, received.headers)
    assert body == prediction_as_replicate(prediction, settings.WEBHOOK_BASE_URL)
    assert received.headers["content-type"] == "application/json"
    assert received.headers["webhook-id"].startswith("msg_")
    assert received.headers["user-agent"].startswith("DeerWeb/")
    assert received.path == "/hook"


def test_a_signature_made_with_another_secret_does_not_verify(member, other_member, webhook_receiver):
    prediction = submit_with_webhook(member, webhook_receiver.url())
    delivery.webhook_deliver(due_row(prediction).pk)
    (received,) = webhook_receiver.wait_for(1)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(webhook_secret_for(other_member)).verify(received.body, received.headers)


def test_a_5xx_is_tried_again_after_a_backoff_with_the_same_message_id_then_succeeds(
    member, webhook_receiver, settings
):
    settings.WEBHOOK_RETRY_DELAY = 10.0
    webhook_receiver.answer(503)
    prediction = submit_with_webhook(member, webhook_receiver.url())
    row = due_row(prediction)
    before = timezone.now()
    assert delivery.webhook_deliver(row.pk) == Outcome.RETRYING
    row.refresh_from_db()
    assert before + timedelta(seconds=5) <= row.due_at <= timezone.now() + timedelta(seconds=10), "jittered 5–10 s"
    assert delivery.webhook_deliver(row.pk) is None, "not before its time"

    due_now(row)
    assert delivery.webhook_deliver(row.pk) == Outcome.DELIVERED
    first, second = webhook_receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    attempts = list(WebhookDelivery.objects.order_by("attempt").values_list("attempt", "status_code", "outcome"))
    assert attempts == [(1, 503, Outcome.RETRYING), (2, 200, Outcome.DELIVERED)]
    row.refresh_from_db()
    assert row.due_at is None


@pytest.mark.parametrize("event", ["start", "output", "logs"])
def test_a_message_before_the_end_is_not_tried_again_after_a_5xx(member, webhook_receiver, event):
    webhook_receiver.answer(503)
    prediction = submit_with_webhook(member, webhook_receiver.url())
    row = due_row(prediction, event)
    assert delivery.webhook_deliver(row.pk) == Outcome.FAILED
    row.refresh_from_db()
    assert row.due_at is None
    assert list(WebhookDelivery.objects.values_list("event", "status_code", "outcome")) == [
        (event, 503, Outcome.FAILED)
    ]


def test_a_2xx_is_not_sent_again(member, webhook_receiver):
    webhook_receiver.answer(204)
    prediction = submit_with_webhook(member, webhook_receiver.url())
    row = due_row(prediction)
    assert delivery.webhook_deliver(row.pk) == Outcome.DELIVERED
    assert delivery.webhook_deliver(row.pk) is None
    row.refresh_from_db()
    assert row.due_at is None
    assert len(webhook_receiver.received) == 1
    assert list(WebhookDelivery.objects.values_list("status_code", "outcome")) == [(204, Outcome.DELIVERED)]


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
def test_a_4xx_other_than_429_or_a_redirect_is_not_sent_again(member, webhook_receiver, status):
    webhook_receiver.answer(status)
    prediction = submit_with_webhook(member, webhook_receiver.url())
    row = due_row(prediction)
    assert delivery.webhook_deliver(row.pk) == Outcome.FAILED
    row.refresh_from_db()
    assert row.due_at is None
    assert delivery.webhook_deliver(row.pk) is None
    assert len(webhook_receiver.received) == 1


def test_a_429_is_tried_again_no_sooner_than_its_retry_after(member, webhook_receiver, settings):
    settings.WEBHOOK_RETRY_DELAY = 1.0
    webhook_receiver.answer(429, retry_after="30")
    row = due_row(submit_with_webhook(member, webhook_receiver.url()))
    before = timezone.now()
    assert delivery.webhook_deliver(row.pk) == Outcome.RETRYING
    row.refresh_from_db()
    assert row.due_at >= before + timedelta(seconds=30)


def test_after_the_last_attempt_the_message_is_given_up(member, webhook_receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    webhook_receiver.answer(500, 502, 500, 200)
    row = due_row(submit_with_webhook(member, webhook_receiver.url()))
    outcomes = [delivery.webhook_deliver(row.pk)]
    for _ in range(2):
        due_now(row)
        outcomes.append(delivery.webhook_deliver(row.pk))
    assert outcomes == [Outcome.RETRYING, Outcome.RETRYING, Outcome.FAILED]
    assert delivery.webhook_deliver(row.pk) is None
    assert len(webhook_receiver.received) == 3


def test_no_answer_is_tried_again_and_kept_as_the_errors_class(member, settings):
    closed = WebhookReceiver()  # bound, then closed: nothing listens on its port
    closed.stop()
    row = due_row(submit_with_webhook(member, closed.url()))
    assert delivery.webhook_deliver(row.pk) == Outcome.RETRYING
    attempt = WebhookDelivery.objects.get()
    assert (attempt.status_code, attempt.error) == (None, "ConnectionError")


def test_the_connection_goes_to_the_address_that_was_checked_with_the_urls_host_in_the_host_header(
    member, webhook_receiver
):
    # hooks.example.test has no address in the real DNS (.test is reserved): only the checked one answers.
    resolver = StubResolver({"hooks.example.test": ["127.0.0.1"]})
    url = webhook_receiver.url("/in?" + SECRET_QUERY, host="hooks.example.test")
    row = due_row(submit_with_webhook(member, url, resolver=resolver))
    assert delivery.webhook_deliver(row.pk, resolver=resolver) == Outcome.DELIVERED
    (received,) = webhook_receiver.wait_for(1)
    assert received.headers["host"] == f"hooks.example.test:{webhook_receiver.port}"
    assert received.path == "/in?" + SECRET_QUERY
    assert resolver.asked == ["hooks.example.test", "hooks.example.test"], "checked when subscribed and when sent"


def test_the_host_is_resolved_and_checked_again_when_sent(member, webhook_receiver):
    url = webhook_receiver.url(host="hooks.example.test")
    prediction = submit_with_webhook(member, url, resolver=StubResolver({"hooks.example.test": ["127.0.0.1"]}))
    rebound = StubResolver({"hooks.example.test": ["169.254.169.254"]})
    row = due_row(prediction)
    assert delivery.webhook_deliver(row.pk, resolver=rebound) == Outcome.FAILED
    assert webhook_receiver.received == []
    assert WebhookDelivery.objects.get().error == "WebhookURLError"


def test_a_host_that_stops_resolving_is_tried_again(member, webhook_receiver):
    url = webhook_receiver.url(host="hooks.example.test")
    prediction = submit_with_webhook(member, url, resolver=StubResolver({"hooks.example.test": ["127.0.0.1"]}))
    row = due_row(prediction)
    assert delivery.webhook_deliver(row.pk, resolver=StubResolver({})) == Outcome.RETRYING
    assert WebhookDelivery.objects.get().error == "WebhookHostUnresolved"


def test_https_goes_to_the_checked_address_with_sni_and_the_certificate_checked_for_the_host(member, tmp_path):
    certificate, key = self_signed_certificate("hooks.example.test", tmp_path)
    receiver = WebhookReceiver(tls=(certificate, key)).start()
    try:
        resolver = StubResolver({"hooks.example.test": ["127.0.0.1"]})
        row = due_row(submit_with_webhook(member, receiver.url(host="hooks.example.test"), resolver=resolver))
        outcome = delivery.webhook_deliver(row.pk, resolver=resolver, verify=str(certificate))
        assert outcome == Outcome.DELIVERED
        (received,) = receiver.wait_for(1)
        assert receiver.server_names == ["hooks.example.test"]
        assert received.headers["host"] == f"hooks.example.test:{receiver.port}"
    finally:
        receiver.stop()


def test_https_with_a_certificate_for_another_host_is_not_sent(member, tmp_path):
    certificate, key = self_signed_certificate("other.example.test", tmp_path)
    receiver = WebhookReceiver(tls=(certificate, key)).start()
    try:
        resolver = StubResolver({"hooks.example.test": ["127.0.0.1"]})
        row = due_row(submit_with_webhook(member, receiver.url(host="hooks.example.test"), resolver=resolver))
        assert delivery.webhook_deliver(row.pk, resolver=resolver, verify=str(certificate)) == Outcome.RETRYING
        assert WebhookDelivery.objects.get().error == "SSLError"
        assert receiver.received == []
    finally:
        receiver.stop()


def test_the_url_is_stored_encrypted_and_never_logged(member, webhook_receiver, caplog):
    caplog.set_level(logging.DEBUG)
    url = webhook_receiver.url("/in?" + SECRET_QUERY)
    webhook_receiver.answer(500)
    row = due_row(submit_with_webhook(member, url))
    delivery.webhook_deliver(row.pk)
    due_now(row)
    delivery.webhook_deliver(row.pk)
    closed = WebhookReceiver()
    closed.stop()
    delivery.webhook_deliver(due_row(submit_with_webhook(member, closed.url("/in?" + SECRET_QUERY))).pk)

    assert caplog.records, "the attempts were logged"
    assert SECRET_QUERY not in caplog.text
    with connection.cursor() as cursor:
        for table in ("webhooks_webhooksubscription", "webhooks_webhookoutbox", "webhooks_webhookdelivery"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - the app's own table names
            stored = json.dumps(cursor.fetchall(), default=str)
            assert "s3cret" not in stored and "/in?" not in stored, table
