"""The review queue page and its decisions (JSON for the script, redirects without it)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from predictions.models import Prediction, ReviewState, Status
from tests.world import PRO, SCHNELL, finished_prediction

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


def card_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-review-id="(\d+)"', html)]


def test_the_queue_shows_succeeded_unreviewed_predictions_oldest_first(reviewer_client, member, other_member):
    now = timezone.now()
    newer = finished_prediction(member, created_at=now - timedelta(minutes=1))
    older = finished_prediction(other_member, created_at=now - timedelta(hours=2), prompt="an old stag")
    finished_prediction(member, review_state=ReviewState.APPROVED)
    finished_prediction(member, review_state=ReviewState.REJECTED)
    finished_prediction(member, status=Status.FAILED)
    finished_prediction(member, status=Status.PROCESSING)

    response = reviewer_client.get(reverse("review:queue"))

    html = response.content.decode()
    assert response.status_code == 200
    assert card_ids(html) == [older.pk, newer.pk]
    assert "an old stag" in html and "bob" in html and SCHNELL in html
    assert f'src="/predictions/{older.pk}/outputs/0/thumbnail/"' in html
    assert re.search(r"data-review-waiting>2<", html)


def test_the_queue_filters_by_member_model_and_date(reviewer_client, member, other_member):
    today = timezone.now()
    alices = finished_prediction(member, model_id=SCHNELL)
    bobs_pro = finished_prediction(other_member, model_id=PRO)
    last_week = finished_prediction(member, created_at=today - timedelta(days=7))
    queue = reverse("review:queue")

    assert card_ids(reviewer_client.get(queue, {"member": member.pk}).content.decode()) == [last_week.pk, alices.pk]
    assert card_ids(reviewer_client.get(queue, {"model": PRO}).content.decode()) == [bobs_pro.pk]
    day = timezone.localdate(today - timedelta(days=7)).isoformat()
    assert card_ids(reviewer_client.get(queue, {"since": day, "until": day}).content.decode()) == [last_week.pk]


@pytest.mark.parametrize(
    "query",
    [
        {"since": "last tuesday"},
        {"since": "2026-05-02", "until": "2026-05-01"},
        {"member": "999999"},
        {"model": "acme/nope"},
    ],
)
def test_a_bad_filter_gets_a_message_on_the_form_not_an_error_page(reviewer_client, member, query):
    finished_prediction(member)
    response = reviewer_client.get(reverse("review:queue"), query)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


def test_the_queue_pages_by_keyset_and_the_next_page_starts_where_the_last_ended(reviewer_client, member):
    start = timezone.now() - timedelta(hours=1)
    predictions = [finished_prediction(member, created_at=start + timedelta(seconds=i)) for i in range(26)]

    first = reviewer_client.get(reverse("review:queue")).content.decode()
    assert card_ids(first) == [p.pk for p in predictions[:24]]
    after = re.search(r'after=(\d+)" rel="next"', first).group(1)

    second = reviewer_client.get(reverse("review:queue"), {"after": after}).content.decode()
    assert card_ids(second) == [p.pk for p in predictions[24:]]
    assert 'rel="next"' not in second


def test_the_queue_costs_the_same_number_of_queries_for_few_or_many_predictions(
    reviewer_client, member, other_member, django_assert_max_num_queries
):
    for _ in range(2):
        finished_prediction(member, outputs=2)
    with django_assert_max_num_queries(20) as few:
        reviewer_client.get(reverse("review:queue"))
    for _ in range(20):
        finished_prediction(other_member, outputs=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        reviewer_client.get(reverse("review:queue"))


def test_the_queue_page_loads_its_own_script_and_has_no_inline_script(reviewer_client, member):
    finished_prediction(member)
    html = reviewer_client.get(reverse("review:queue")).content.decode()
    assert re.search(r'<script src="/static/deerweb/review\.js" defer></script>', html)
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "no inline script"
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"


def test_approving_through_json_answers_what_was_decided(reviewer_client, reviewer, member):
    prediction = finished_prediction(member)

    response = reviewer_client.post(reverse("review:decide"), {"action": "approve", "ids": [prediction.pk]}, **JSON)

    assert response.status_code == 200
    assert response.json() == {"decided": [prediction.pk], "skipped": [], "message": "Approved 1 prediction."}
    prediction.refresh_from_db()
    assert (prediction.review_state, prediction.reviewed_by) == (ReviewState.APPROVED, reviewer)


def test_a_bulk_rejection_uses_the_listed_reason_and_the_details(reviewer_client, member, other_member):
    predictions = [finished_prediction(member), finished_prediction(other_member)]

    response = reviewer_client.post(
        reverse("review:decide"),
        {
            "action": "reject",
            "ids": [p.pk for p in predictions],
            "reason": "prompt",
            "details": "no antlers",
        },
        **JSON,
    )

    assert response.json()["decided"] == sorted(p.pk for p in predictions)
    assert set(Prediction.objects.values_list("review_state", "review_reason")) == {
        ("rejected", "Does not match the prompt — no antlers")
    }
    assert AuditEntry.objects.filter(action="prediction.reject").count() == 2


def test_a_prediction_someone_else_decided_first_comes_back_as_skipped(reviewer_client, admin_user, member):
    taken = finished_prediction(member, review_state=ReviewState.APPROVED, reviewed_by=admin_user)
    open_one = finished_prediction(member)

    body = reviewer_client.post(
        reverse("review:decide"),
        {
            "action": "reject",
            "ids": [taken.pk, open_one.pk],
            "reason": "other",
            "details": "Watermark",
        },
        **JSON,
    ).json()

    assert body["decided"] == [open_one.pk]
    assert body["skipped"] == [taken.pk]
    assert "already reviewed" in body["message"]
    taken.refresh_from_db()
    assert taken.review_state == ReviewState.APPROVED


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "reject", "ids": ["1"]}, "Give a reason"),
        ({"action": "reject", "ids": ["1"], "reason": "other"}, "Give a reason"),
        ({"action": "approve"}, "Select at least one prediction"),
        ({"ids": ["1"]}, "Choose approve or reject"),
        ({"action": "approve", "ids": ["1; DROP"]}, "numbers"),
        ({"action": "approve", "ids": [str(i) for i in range(201)]}, "at most 200"),
        ({"action": "reject", "ids": ["1"], "reason": "made-up"}, "Select a valid choice"),
    ],
)
def test_a_bad_decision_request_gets_a_clear_json_error(reviewer_client, data, message):
    response = reviewer_client.post(reverse("review:decide"), data, **JSON)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_without_javascript_a_decision_redirects_back_with_a_message(reviewer_client, member):
    prediction = finished_prediction(member)
    back = reverse("review:queue") + f"?member={member.pk}"

    response = reviewer_client.post(
        reverse("review:decide"),
        {
            "one": f"reject:{prediction.pk}",
            "reason": "quality",
            "details": "",
            "next": back,
        },
        follow=True,
    )

    assert response.redirect_chain == [(back, 302)]
    assert "Rejected 1 prediction." in response.content.decode()
    prediction.refresh_from_db()
    assert prediction.review_reason == "Poor quality or visible defects"


def test_a_redirect_never_leaves_deerweb(reviewer_client, member):
    prediction = finished_prediction(member)
    response = reviewer_client.post(
        reverse("review:decide"),
        {
            "one": f"approve:{prediction.pk}",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == reverse("review:queue")


def test_an_admin_deletes_the_files_of_a_rejected_prediction_and_its_urls_then_404(
    client, admin_user, member, django_capture_on_commit_callbacks
):
    prediction = finished_prediction(member, review_state=ReviewState.REJECTED, review_reason="no")
    stored = prediction.outputs.get()
    client.force_login(admin_user)
    assert client.get(reverse("predictions:output", args=[prediction.pk, 0])).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("review:delete_files", args=[prediction.pk]), {"confirm": "yes"}, follow=True)

    assert "The stored files were deleted" in response.content.decode()
    assert not stored.file.storage.exists(stored.file.name)
    for name in ("predictions:output", "predictions:thumbnail"):
        assert client.get(reverse(name, args=[prediction.pk, 0])).status_code == 404
    client.force_login(member)
    detail = client.get(prediction.get_absolute_url()).content.decode()
    assert "data-files-deleted" in detail
    assert "/outputs/0/" not in detail


def test_deleting_files_needs_the_confirmation_box(client, admin_user, member):
    prediction = finished_prediction(member, review_state=ReviewState.REJECTED, review_reason="no")
    client.force_login(admin_user)
    response = client.post(reverse("review:delete_files", args=[prediction.pk]), {}, follow=True)
    assert "Tick the box" in response.content.decode()
    assert prediction.outputs.exists()


def test_a_queue_card_shown_again_follows_what_it_shows(reviewer_client, member):
    """Cards come from the cache (common/rows.py); their keys hold what a card shows."""
    waiting = finished_prediction(member, prompt="a stag at dusk", outputs=2)
    html = reviewer_client.get(reverse("review:queue")).content.decode()
    assert "a stag at dusk" in html and "2 images" in html
    waiting.prompt.text = "a doe at dawn"
    waiting.prompt.save(update_fields=["text"])
    waiting.outputs.filter(index=1).delete()
    html = reviewer_client.get(reverse("review:queue")).content.decode()
    assert "a doe at dawn" in html and "a stag at dusk" not in html and "2 images" not in html
