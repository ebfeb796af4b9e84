"""The audit log page: admins browse and filter it; nobody edits it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts
from audit.models import AuditEntry
from audit.services import audit_record
from reviews import services as reviews
from tests.world import finished_prediction

pytestmark = pytest.mark.django_db


def rows(html: str) -> list[str]:
    return re.findall(r"<code>([a-z_.]+)</code></td>", html)


def test_the_log_lists_who_did_what_to_what_newest_first_with_before_and_after(
    admin_client, admin_user, member, reviewer
):
    prediction = finished_prediction(member)
    reviews.review_reject(prediction, by=reviewer, reason="Blurry")
    accounts.user_deactivate(member, by=admin_user)

    html = admin_client.get(reverse("audit:list")).content.decode()

    assert rows(html) == ["user.deactivate", "prediction.reject"]
    assert "charlie" in html and "dora" in html
    assert f'href="/predictions/{prediction.pk}/"' in html
    assert f'href="/team/{member.pk}/"' in html
    assert "<dt>review_state</dt><dd>pending</dd>" in html
    assert "<dt>review_reason</dt><dd>Blurry</dd>" in html


def test_automatic_decisions_are_shown_as_deerweb(admin_client, member):
    prediction = finished_prediction(member)
    reviews._decide(
        [prediction.pk],
        "approved",
        ("pending",),
        by=None,
        reason="",
        action="prediction.approve",
        summary="approved automatically: the member is set to auto-approve",
    )
    html = admin_client.get(reverse("audit:list"), {"actor": "auto"}).content.decode()
    assert rows(html) == ["prediction.approve"]
    assert "DeerWeb (automatic)" in html


def test_the_log_filters_by_actor_action_target_and_date(admin_client, admin_user, member, reviewer, other_member):
    first = finished_prediction(member)
    second = finished_prediction(member)
    reviews.review_approve(first, by=reviewer)
    reviews.review_reject(second, by=admin_user, reason="no")
    accounts.user_deactivate(other_member, by=admin_user)
    old = AuditEntry.objects.get(action="prediction.approve")
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    audit = reverse("audit:list")

    assert rows(admin_client.get(audit, {"actor": reviewer.pk}).content.decode()) == ["prediction.approve"]
    assert rows(admin_client.get(audit, {"action": "prediction."}).content.decode()) == [
        "prediction.reject",
        "prediction.approve",
    ]
    assert rows(admin_client.get(audit, {"action": "user.deactivate"}).content.decode()) == ["user.deactivate"]
    assert rows(
        admin_client.get(audit, {"target_type": "predictions.prediction", "target_id": second.pk}).content.decode()
    ) == ["prediction.reject"]
    today = timezone.localdate().isoformat()
    assert rows(admin_client.get(audit, {"since": today}).content.decode()) == ["user.deactivate", "prediction.reject"]


@pytest.mark.parametrize(
    "query",
    [
        {"since": "yesterday"},
        {"actor": "nobody"},
        {"target_type": "auth.group"},
        {"since": "2026-02-02", "until": "2026-02-01"},
    ],
)
def test_a_bad_filter_gets_a_message_not_an_error_page(admin_client, query):
    response = admin_client.get(reverse("audit:list"), query)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


def test_the_log_pages_and_costs_the_same_queries_for_many_entries(
    admin_client, admin_user, django_assert_max_num_queries
):
    for i in range(3):
        audit_record(actor=admin_user, action="quota.change", target=admin_user, summary=f"change {i}")
    with django_assert_max_num_queries(12) as few:
        admin_client.get(reverse("audit:list"))
    for i in range(60):
        audit_record(actor=admin_user, action="quota.change", target=admin_user, summary=f"more {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = admin_client.get(reverse("audit:list")).content.decode()
    assert len(rows(html)) == 50
    after = re.search(r'after=(\d+)" rel="next"', html).group(1)
    assert len(rows(admin_client.get(reverse("audit:list"), {"after": after}).content.decode())) == 13


def test_the_log_cannot_be_changed_through_its_page(admin_client):
    assert admin_client.post(reverse("audit:list"), {"action": "x"}).status_code == 405
