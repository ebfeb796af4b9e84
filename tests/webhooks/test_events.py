"""Which of a prediction's changes make a webhook message due, and how they coalesce: at most one
pending message per event kind, `output` and `logs` at most every 500 ms, nothing sent inside a
transaction, and nothing lost to a worker that dies."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from deerapi.client import RemotePrediction
from predictions import pipeline, services
from predictions import tasks as prediction_tasks
from predictions.models import Status, Via
from tests.world import add_output, submit, submit_with_webhook, updated
from webhooks import delivery, sending
from webhooks import services as webhooks_services
from webhooks.models import Outcome, WebhookDelivery, WebhookOutbox
from webhooks.services import THROTTLE, webhook_events_due

pytestmark = pytest.mark.django_db


def rows(prediction) -> dict[str, WebhookOutbox]:
    return {row.event: row for row in WebhookOutbox.objects.filter(subscription__prediction=prediction)}


def due_events(prediction) -> set[str]:
    return {event for event, row in rows(prediction).items() if row.due_at is not None}


def deliveries(callbacks: list) -> list:
    """The on-commit callbacks that send webhook deliveries (not the notifier's wake-ups)."""
    return [callback for callback in callbacks if callback.__module__.startswith("webhooks.")]


def test_the_first_move_to_a_status_at_deerapi_makes_start_due_once(
    member, webhook_receiver, django_capture_on_commit_callbacks
):
    prediction = submit_with_webhook(member, webhook_receiver.url())
    assert due_events(prediction) == set()
    with django_capture_on_commit_callbacks() as callbacks:
        services.prediction_transition(prediction.pk, Status.QUEUED, Status.SUBMITTING)
        services.prediction_transition(prediction.pk, Status.SUBMITTING, Status.STARTING)
    assert due_events(prediction) == {"start"}
    assert len(deliveries(callbacks)) == 1, "one delivery task, sent once the move committed"
    delivery.webhook_deliver(rows(prediction)["start"].pk)
    with django_capture_on_commit_callbacks() as callbacks:
        services.prediction_transition(prediction.pk, Status.STARTING, Status.PROCESSING)
    assert due_events(prediction) == set()
    assert deliveries(callbacks) == []


def test_the_end_makes_completed_and_output_due_once_the_images_are_stored(member, webhook_receiver):
    prediction = submit_with_webhook(member, webhook_receiver.url())
    prediction = updated(prediction, status=Status.STORING)
    add_output(prediction)
    services.prediction_transition(prediction.pk, Status.STORING, Status.SUCCEEDED, completed_at=timezone.now())
    assert due_events(prediction) == {"completed", "output"}
    delivery.webhook_deliver(rows(prediction)["completed"].pk)
    (received,) = webhook_receiver.wait_for(1)
    assert b'"status": "succeeded"' in received.body
    assert b"/outputs/" in received.body


def test_a_failure_makes_completed_due_without_output(member, webhook_receiver):
    prediction = submit_with_webhook(member, webhook_receiver.url())
    services.prediction_fail(prediction.pk, Status.QUEUED, "no")
    assert due_events(prediction) == {"completed"}


def test_only_the_subscribed_events_are_sent(member, webhook_receiver):
    prediction = submit_with_webhook(member, webhook_receiver.url(), events=("completed",))
    assert set(rows(prediction)) == {"completed"}
    services.prediction_transition(prediction.pk, Status.QUEUED, Status.SUBMITTING)
    services.prediction_transition(prediction.pk, Status.SUBMITTING, Status.STARTING)
    assert due_events(prediction) == set()


def test_new_logs_from_a_poll_make_logs_due_and_the_same_logs_do_not(member, webhook_receiver, simulator):
    prediction = submit_with_webhook(member, webhook_receiver.url(), events=("logs",))
    pipeline.prediction_submit(prediction.pk)
    prediction.refresh_from_db()
    logs_row = rows(prediction)["logs"]
    remote = RemotePrediction(id=prediction.deerapi_id, status="processing", logs="step 1/4\n")
    pipeline._apply_remote(prediction, prediction.status, remote)
    assert due_events(prediction) == {"logs"}
    delivery.webhook_deliver(logs_row.pk)
    prediction.refresh_from_db()
    pipeline._apply_remote(prediction, prediction.status, remote)
    assert due_events(prediction) == set(), "nothing new"


def test_events_while_one_is_pending_coalesce_into_it(member, webhook_receiver, django_capture_on_commit_callbacks):
    prediction = submit_with_webhook(member, webhook_receiver.url())
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(5):
            webhook_events_due(prediction.pk, ["logs"])
    assert len(callbacks) == 1
    row = rows(prediction)["logs"]
    assert row.version == 5
    assert delivery.webhook_deliver(row.pk) == Outcome.DELIVERED
    assert len(webhook_receiver.wait_for(1)) == 1
    row.refresh_from_db()
    assert row.due_at is None


def test_logs_are_sent_at_most_every_500_ms(member, webhook_receiver):
    prediction = submit_with_webhook(member, webhook_receiver.url())
    webhook_events_due(prediction.pk, ["logs"])
    delivery.webhook_deliver(rows(prediction)["logs"].pk)
    sent_at = rows(prediction)["logs"].last_attempt_at
    webhook_events_due(prediction.pk, ["logs", "completed"])
    after = timezone.now()
    logs, completed = rows(prediction)["logs"], rows(prediction)["completed"]
    # Not before 500 ms after the last send; at once if that already passed (a slow machine).
    assert sent_at + THROTTLE <= logs.due_at <= max(sent_at + THROTTLE, after)
    assert completed.due_at <= timezone.now(), "completed is never held back"


def test_a_change_during_a_send_is_sent_again_in_a_new_message(member, webhook_receiver, monkeypatch):
    prediction = submit_with_webhook(member, webhook_receiver.url())
    webhook_events_due(prediction.pk, ["logs"])
    row = rows(prediction)["logs"]
    real_post = sending.webhook_post

    def post_while_logs_arrive(*args, **kwargs):
        webhook_events_due(prediction.pk, ["logs"])  # a poll saves new logs meanwhile
        return real_post(*args, **kwargs)

    monkeypatch.setattr(sending, "webhook_post", post_while_logs_arrive)
    assert delivery.webhook_deliver(row.pk) == Outcome.DELIVERED
    again = rows(prediction)["logs"]
    assert again.due_at is not None
    assert again.message_id != row.message_id
    assert again.due_at == again.last_attempt_at + THROTTLE


def test_nothing_is_due_when_the_move_is_rolled_back(member, webhook_receiver, django_capture_on_commit_callbacks):
    prediction = submit_with_webhook(member, webhook_receiver.url())
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        services.prediction_fail(prediction.pk, Status.QUEUED, "no")
        raise RuntimeError("the caller's transaction fails")
    assert due_events(prediction) == set()
    assert callbacks == []


def test_a_prediction_without_a_webhook_costs_one_query_per_event(member, django_assert_num_queries):
    prediction = submit(member)
    with django_assert_num_queries(1):
        webhook_events_due(prediction.pk, ["completed", "output"])


def test_a_prediction_made_in_the_browser_asks_nothing_of_webhooks_as_it_changes(member, django_assert_num_queries):
    prediction = submit(member)
    with django_assert_num_queries(0):
        webhooks_services.prediction_changed_received(None, prediction.pk, Status.PROCESSING, via=Via.WEB)
        webhooks_services.prediction_changed_received(None, prediction.pk, Status.PROCESSING, True, via=Via.WEB)
        webhooks_services.prediction_finished_received(None, prediction, Status.SUCCEEDED)


def test_a_message_whose_worker_died_is_sent_again_by_the_sweep(member, webhook_receiver, settings):
    settings.SWEEP_GRACE = 1.0
    prediction = submit_with_webhook(member, webhook_receiver.url())
    webhook_events_due(prediction.pk, ["completed"])
    row = rows(prediction)["completed"]
    # Claimed by a worker that died: its lease ran out a while ago.
    WebhookOutbox.objects.filter(pk=row.pk).update(due_at=timezone.now() - timedelta(seconds=5), attempts=1)
    assert delivery.webhooks_sweep() == 1
    lease = rows(prediction)["completed"].due_at
    assert lease > timezone.now(), "the sweep moved the lease"
    assert delivery.webhook_deliver(row.pk) is None, "the old countdown message does nothing"
    assert delivery.webhook_deliver(row.pk, lease=lease.isoformat()) == Outcome.DELIVERED
    assert rows(prediction)["completed"].attempts == 2
    assert delivery.webhooks_sweep() == 0


def test_a_message_whose_tries_never_finished_is_given_up_once_past_the_attempts_allowed(
    member, webhook_receiver, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    prediction = submit_with_webhook(member, webhook_receiver.url())
    webhook_events_due(prediction.pk, ["completed"])
    row = rows(prediction)["completed"]
    # Claimed twice by workers that were killed while sending: its lease ran out again.
    WebhookOutbox.objects.filter(pk=row.pk).update(due_at=timezone.now(), attempts=2)
    assert delivery.webhook_deliver(row.pk) == Outcome.FAILED
    assert webhook_receiver.received == []
    assert rows(prediction)["completed"].due_at is None
    assert WebhookDelivery.objects.get().error == "AttemptsExhausted"


def test_the_predictions_beat_sweep_sends_lost_webhook_messages_again(
    member, webhook_receiver, settings, django_capture_on_commit_callbacks
):
    settings.SWEEP_GRACE = 1.0
    prediction = submit_with_webhook(member, webhook_receiver.url())
    webhook_events_due(prediction.pk, ["completed"])
    WebhookOutbox.objects.filter(event="completed").update(due_at=timezone.now() - timedelta(seconds=5))
    with django_capture_on_commit_callbacks():
        prediction_tasks.sweep()
    assert rows(prediction)["completed"].due_at > timezone.now(), "claimed with a lease and sent again"
