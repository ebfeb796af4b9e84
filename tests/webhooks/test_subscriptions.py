"""Subscribing a prediction to a webhook: the events and URL are checked first, and the URL is
stored encrypted, under a key derived from SECRET_KEY."""

import base64
import json

import pytest
from cryptography.fernet import InvalidToken
from django.db import connection

from tests.world import StubResolver, submit
from webhooks import keys
from webhooks.models import WebhookOutbox, WebhookSubscription
from webhooks.services import (
    WEBHOOK_EVENTS_DEFAULT,
    WebhookEventsError,
    WebhookURLError,
    webhook_subscribe,
)

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/deerweb?token=s3cret-token"
RESOLVER = StubResolver({"hooks.example.com": ["93.184.216.34"]})


def test_a_subscription_keeps_the_url_encrypted_and_only_its_host_readable(member):
    subscription = webhook_subscribe(submit(member), URL, WEBHOOK_EVENTS_DEFAULT, resolver=RESOLVER)
    assert subscription.host == "hooks.example.com"
    assert keys.url_decrypt(subscription.url_encrypted) == URL
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM webhooks_webhooksubscription")
        stored = json.dumps(cursor.fetchall(), default=str)
    assert "s3cret-token" not in stored and "/deerweb" not in stored
    assert "hooks.example.com" in stored


def test_the_default_is_replicates_new_output_and_completion_each_with_an_outbox_row(member):
    assert WEBHOOK_EVENTS_DEFAULT == ("output", "completed")
    prediction = submit(member)
    webhook_subscribe(prediction, URL, WEBHOOK_EVENTS_DEFAULT, resolver=RESOLVER)
    assert sorted(
        WebhookOutbox.objects.filter(subscription__prediction=prediction).values_list("event", flat=True)
    ) == [
        "completed",
        "output",
    ]


def test_events_are_kept_in_replicates_order_without_repeats(member):
    subscription = webhook_subscribe(submit(member), URL, ["completed", "start", "completed"], resolver=RESOLVER)
    assert subscription.events == ["start", "completed"]


@pytest.mark.parametrize(
    ("events", "message"), [([], "at least one"), (["started"], "Unknown webhook event “started”")]
)
def test_unknown_or_no_events_are_refused_and_nothing_is_saved(member, events, message):
    with pytest.raises(WebhookEventsError) as refused:
        webhook_subscribe(submit(member), URL, events, resolver=RESOLVER)
    assert message in refused.value.message
    assert refused.value.field == "webhook_events_filter"
    assert not WebhookSubscription.objects.exists()


def test_a_refused_url_saves_nothing(member):
    with pytest.raises(WebhookURLError) as refused:
        webhook_subscribe(submit(member), "http://169.254.169.254/latest/meta-data/", ["completed"], resolver=RESOLVER)
    assert refused.value.field == "webhook"
    assert not WebhookSubscription.objects.exists()


def test_the_encryption_key_follows_secret_key_and_its_fallbacks(member, settings):
    token = keys.url_encrypt(URL)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-for-tests-only", [settings.SECRET_KEY]
    assert keys.url_decrypt(token) == URL, "an older SECRET_KEY among the fallbacks still opens it"
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(InvalidToken):
        keys.url_decrypt(token)


def test_the_stored_token_is_fernet_and_differs_each_time():
    first, second = keys.url_encrypt(URL), keys.url_encrypt(URL)
    assert first != second
    assert base64.urlsafe_b64decode(first)[0] == 0x80, "Fernet's version byte"
