"""Each member's signing secret: derived (never stored) from SECRET_KEY and a salt of theirs,
in Standard Webhooks' format, and replaced by rotating the salt."""

import base64
import json

import pytest
import standardwebhooks
from django.db import connection

from audit.models import AuditEntry
from tests.world import submit_with_webhook
from webhooks import delivery
from webhooks.models import WebhookOutbox, WebhookSigningKey
from webhooks.services import webhook_events_due, webhook_secret_for, webhook_secret_rotate

pytestmark = pytest.mark.django_db


def test_a_secret_is_whsec_and_32_bytes_of_base64_the_same_each_time(member):
    secret = webhook_secret_for(member)
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert webhook_secret_for(member) == secret
    assert WebhookSigningKey.objects.count() == 1


def test_members_have_different_secrets(member, other_member):
    assert webhook_secret_for(member) != webhook_secret_for(other_member)


def test_no_secret_is_stored_only_a_salt(member):
    secret = webhook_secret_for(member)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM webhooks_webhooksigningkey")
        stored = json.dumps(cursor.fetchall(), default=str)
    assert secret not in stored and secret.removeprefix("whsec_") not in stored


def test_the_secret_is_derived_from_secret_key(member, settings):
    secret = webhook_secret_for(member)
    settings.SECRET_KEY = "another-secret-key-for-tests-only"
    assert webhook_secret_for(member) != secret


def test_rotation_changes_the_secret_and_old_signatures_stop_verifying(member, webhook_receiver):
    old = webhook_secret_for(member)
    prediction = submit_with_webhook(member, webhook_receiver.url())
    webhook_events_due(prediction.pk, ["completed"])
    row = WebhookOutbox.objects.get(subscription__prediction=prediction, event="completed")
    delivery.webhook_deliver(row.pk)
    (signed_before,) = webhook_receiver.wait_for(1)

    new = webhook_secret_rotate(member)
    assert new != old
    assert webhook_secret_for(member) == new
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new).verify(signed_before.body, signed_before.headers)

    webhook_events_due(prediction.pk, ["completed"])
    delivery.webhook_deliver(row.pk)
    signed_after = webhook_receiver.wait_for(2)[1]
    standardwebhooks.Webhook(new).verify(signed_after.body, signed_after.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(signed_after.body, signed_after.headers)


def test_rotation_is_audited_without_the_secret(member):
    webhook_secret_for(member)
    new = webhook_secret_rotate(member)
    entry = AuditEntry.objects.get(action="user.webhook_secret_rotate")
    assert (entry.actor, entry.target_type, entry.target_id) == (member, "predictions.user", str(member.pk))
    recorded = json.dumps([entry.summary, entry.before, entry.after])
    assert new.removeprefix("whsec_") not in recorded


def test_a_first_rotation_makes_the_key(member):
    secret = webhook_secret_rotate(member)
    assert webhook_secret_for(member) == secret
