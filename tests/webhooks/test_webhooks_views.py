"""The webhook section of a prediction's page and the member's webhooks page (/webhooks/): each
attempt with its time, event, attempt number and status code; a URL's host, never the URL."""

import pytest
import standardwebhooks
from django.urls import reverse

from predictions.models import ReviewState
from tests.world import finished_prediction, submit, submit_with_webhook, wait_until
from webhooks import delivery
from webhooks.models import WebhookDelivery, WebhookOutbox
from webhooks.services import webhook_events_due, webhook_secret_for, webhook_subscribe

pytestmark = pytest.mark.django_db

SECRET_PATH = "/in/s3cret-path-token"


def delivered(prediction, *events: str) -> None:
    for event in events:
        webhook_events_due(prediction.pk, [event])
        delivery.webhook_deliver(WebhookOutbox.objects.get(subscription__prediction=prediction, event=event).pk)


def test_the_prediction_page_shows_each_delivery_and_the_host_only(member_client, member, webhook_receiver):
    webhook_receiver.answer(503, 200)
    prediction = submit_with_webhook(member, webhook_receiver.url(SECRET_PATH))
    delivered(prediction, "start", "completed")
    html = member_client.get(prediction.get_absolute_url()).content.decode()
    assert "data-webhook" in html
    assert "127.0.0.1" in html
    assert SECRET_PATH not in html and webhook_receiver.url(SECRET_PATH) not in html
    assert html.count("data-delivery ") == 2
    assert 'data-event="start" data-status-code="503"' in html
    assert 'data-event="completed" data-status-code="200"' in html
    assert "HTTP 503" in html
    assert '<td class="outcome-failed">Failed</td>' in html, "a start message is not tried again"
    assert '<td class="outcome-delivered">Delivered</td>' in html


def test_a_prediction_without_a_webhook_has_no_webhook_section(member_client, member):
    html = member_client.get(submit(member).get_absolute_url()).content.decode()
    assert "data-webhook" not in html


def test_a_teammate_seeing_a_shared_prediction_does_not_see_its_webhook(client, member, other_member, reviewer):
    prediction = finished_prediction(member, review_state=ReviewState.APPROVED)
    webhook_subscribe(prediction, "http://127.0.0.1:9/hook", ["completed"])
    client.force_login(other_member)
    assert "data-webhook" not in client.get(prediction.get_absolute_url()).content.decode()
    client.force_login(reviewer)
    assert "data-webhook" in client.get(prediction.get_absolute_url()).content.decode()


def test_the_prediction_page_costs_the_same_queries_for_one_delivery_or_many(
    member_client, member, webhook_receiver, django_assert_max_num_queries
):
    prediction = submit_with_webhook(member, webhook_receiver.url())
    delivered(prediction, "start")
    with django_assert_max_num_queries(30) as few:
        member_client.get(prediction.get_absolute_url())
    webhook_receiver.answer(*[500] * 20)
    for _ in range(20):
        delivered(prediction, "logs")
        WebhookOutbox.objects.filter(event="logs").update(due_at=None, last_attempt_at=None)
    assert WebhookDelivery.objects.count() == 21
    with django_assert_max_num_queries(len(few.captured_queries)):
        member_client.get(prediction.get_absolute_url())


def test_the_webhooks_page_lists_the_members_own_deliveries(member_client, member, other_member, webhook_receiver):
    mine = submit_with_webhook(member, webhook_receiver.url(SECRET_PATH))
    theirs = submit_with_webhook(other_member, webhook_receiver.url())
    delivered(mine, "completed")
    delivered(theirs, "completed")
    response = member_client.get(reverse("webhooks:mine"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/predictions/{mine.pk}/"' in html
    assert f'href="/predictions/{theirs.pk}/"' not in html
    assert SECRET_PATH not in html
    assert "Rotate webhook secret" in html


def test_the_webhooks_page_is_reached_from_the_account_menu(member_client):
    html = member_client.get(reverse("predictions:list")).content.decode()
    menu = html[html.index("account-menu-body") :]
    assert f'<a href="{reverse("webhooks:mine")}">Webhooks</a>' in menu[: menu.index("</div>")]


def test_rotating_the_secret_from_the_page_replaces_it(member_client, member):
    old = webhook_secret_for(member)
    response = member_client.post(reverse("webhooks:secret_rotate"))
    assert response.status_code == 302 and response["Location"] == reverse("webhooks:mine")
    assert webhook_secret_for(member) != old
    html = member_client.get(reverse("webhooks:mine")).content.decode()
    assert "Your webhook signing secret was replaced" in html
    assert webhook_secret_for(member) not in html, "the secret is never on a page"
    assert "Last replaced" in html


def test_the_secret_is_rotated_only_by_a_post(member_client, member):
    old = webhook_secret_for(member)
    assert member_client.get(reverse("webhooks:secret_rotate")).status_code == 405
    assert webhook_secret_for(member) == old


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for response in (client.get(reverse("webhooks:mine")), client.post(reverse("webhooks:secret_rotate"))):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_webhooks_page_speaks_chinese(member_client, member, webhook_receiver):
    delivered(submit_with_webhook(member, webhook_receiver.url()), "completed")
    html = member_client.get(reverse("webhooks:mine"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    for text in ("我的 Webhook", "最近的投递", "轮换 Webhook 签名密钥", "已送达"):
        assert text in html


def test_a_delivery_received_verifies_with_the_secret_the_member_holds(member, webhook_receiver):
    delivered(submit_with_webhook(member, webhook_receiver.url()), "completed")
    wait_until(lambda: webhook_receiver.received, what="a webhook")
    received = webhook_receiver.received[0]
    standardwebhooks.Webhook(webhook_secret_for(member)).verify(received.body, received.headers)


def test_the_admin_lists_deliveries_with_the_host_only_and_cannot_change_them(admin_client, member, webhook_receiver):
    delivered(submit_with_webhook(member, webhook_receiver.url(SECRET_PATH)), "completed")
    html = admin_client.get(reverse("admin:webhooks_webhookdelivery_changelist")).content.decode()
    assert "127.0.0.1" in html and SECRET_PATH not in html
    attempt = WebhookDelivery.objects.get()
    assert admin_client.get(reverse("admin:webhooks_webhookdelivery_change", args=[attempt.pk])).status_code == 200
    assert admin_client.post(reverse("admin:webhooks_webhookdelivery_delete", args=[attempt.pk])).status_code == 403
