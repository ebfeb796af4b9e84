"""The Prediction admin: the list (and its deep pages), its filters and search, its actions, and a read-only
change page."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import admin_list_filter
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from predictions.admin import PredictionAdmin
from predictions.models import Prediction, ReviewState, Status
from tests.world import PRO, SCHNELL, finished_prediction

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/predictions/prediction/"


def listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', html)]


def row_of(html: str, prediction) -> str:
    """The list's row of `prediction`."""
    rows = re.findall(r"<tr>.*?</tr>", html, re.DOTALL)
    return next(row for row in rows if f'name="_selected_action" value="{prediction.pk}"' in row)


def act(client, action: str, predictions, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [p.pk for p in predictions], **extra}
    return client.post(CHANGELIST, data, follow=True)


def test_the_list_shows_thumbnail_status_review_member_model_cost_and_times(admin_client, member):
    prediction = finished_prediction(
        member, model_id=PRO, estimated_cost=Decimal("0.04"), actual_cost=Decimal("0.0400"), deerapi_id="dpi-123"
    )

    html = admin_client.get(CHANGELIST).content.decode()

    assert f'src="/predictions/{prediction.pk}/outputs/0/thumbnail/"' in html
    for text in ("Succeeded", "Not reviewed", "alice", PRO, "0.0400", "a red deer in the snow"):
        assert text in html, text


def test_a_row_shown_again_follows_what_changed_since_and_keeps_the_lists_search(admin_client, member, other_member):
    """Rows come from the cache (predictions.admin.changelist_rows); their keys hold what can still change."""
    prediction = finished_prediction(member, estimated_cost=Decimal("0.04"), actual_cost=None)
    assert "Succeeded" in row_of(admin_client.get(CHANGELIST).content.decode(), prediction)
    chinese = admin_client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已完成" in row_of(chinese, prediction), "per language"

    Prediction.objects.filter(pk=prediction.pk).update(
        status=Status.FAILED, review_state=ReviewState.REJECTED, actual_cost=Decimal("0.0123"), owner=other_member
    )
    row = row_of(admin_client.get(CHANGELIST).content.decode(), prediction)
    for text in ("Failed", "Rejected", "0.0123", other_member.username):
        assert text in row, text
    assert "Succeeded" not in row and "Not reviewed" not in row and member.username not in row

    searched = admin_client.get(CHANGELIST, {"q": "red deer"}).content.decode()
    assert f"/{prediction.pk}/change/?_changelist_filters=q%3Dred%2Bdeer" in searched
    assert "_changelist_filters" not in admin_client.get(CHANGELIST).content.decode()


def test_the_list_costs_the_same_number_of_queries_for_few_or_many_rows(
    admin_client, member, other_member, django_assert_max_num_queries
):
    for _ in range(2):
        finished_prediction(member, outputs=2)
    with django_assert_max_num_queries(25) as few:
        admin_client.get(CHANGELIST)
    for _ in range(30):
        finished_prediction(other_member, outputs=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(CHANGELIST)


def test_pages_past_the_middle_list_the_right_rows_in_order(admin_client, member, monkeypatch):
    """They are read from the oldest end (see NearerEndPaginator) and must still read newest first."""
    monkeypatch.setattr(PredictionAdmin, "list_per_page", 2)
    start = timezone.now() - timedelta(days=1)
    newest_first = [finished_prediction(member, created_at=start + timedelta(minutes=n), outputs=0) for n in range(5)][
        ::-1
    ]
    pages = [listed(admin_client.get(CHANGELIST, {"p": p}).content.decode()) for p in (1, 2, 3)]
    assert pages == [[p.pk for p in newest_first[i : i + 2]] for i in (0, 2, 4)]
    oldest_first = listed(admin_client.get(CHANGELIST, {"p": 3, "o": "9"}).content.decode())
    assert oldest_first == [newest_first[0].pk], "a sorted column is reversed the same way"


def test_each_filter_narrows_the_list(admin_client, member, other_member):
    schnell = finished_prediction(member, model_id=SCHNELL)
    pro_approved = finished_prediction(other_member, model_id=PRO, review_state=ReviewState.APPROVED)
    failed = finished_prediction(member, status=Status.FAILED)
    private = finished_prediction(member, is_private=True)
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)

    assert listed(admin_client.get(CHANGELIST, {"status__exact": "failed"}).content.decode()) == [failed.pk]
    assert listed(admin_client.get(CHANGELIST, {"review_state__exact": "approved"}).content.decode()) == [
        pro_approved.pk
    ]
    assert listed(admin_client.get(CHANGELIST, {"model": PRO}).content.decode()) == [pro_approved.pk]
    assert listed(admin_client.get(CHANGELIST, {"owner__id__exact": other_member.pk}).content.decode()) == [
        pro_approved.pk
    ]
    assert listed(admin_client.get(CHANGELIST, {"is_private__exact": "1"}).content.decode()) == [private.pk]
    since = admin_client.get(CHANGELIST, {"created_at__gte": str(midnight)}).content.decode()
    assert set(listed(since)) == {schnell.pk, pro_approved.pk, failed.pk, private.pk}


def filter_column(html: str) -> str:
    return re.search(r'<nav id="changelist-filter".*?</nav>', html, re.DOTALL).group(0)


@pytest.mark.parametrize("query", ["", "?status=failed", "?q=deer", "?owner__id__exact=1&is_private__exact=0"])
def test_the_filter_column_is_what_djangos_own_filters_render(admin_client, member, query):
    finished_prediction(member)
    admin_client.get(CHANGELIST + query)  # rendered, then from the cache
    response = admin_client.get(CHANGELIST + query)
    cl = response.context["cl"]
    django_renders = "".join(admin_list_filter(cl, spec) for spec in cl.filter_specs)
    assert django_renders in filter_column(response.content.decode())


def test_the_filter_column_shown_again_follows_new_members_and_the_chosen_filter(
    admin_client, member, django_user_model
):
    finished_prediction(member)
    assert "carol" not in filter_column(admin_client.get(CHANGELIST).content.decode())
    carol = django_user_model.objects.create_user("carol", "carol@example.com", "pw")
    column = filter_column(admin_client.get(CHANGELIST).content.decode())
    assert f'href="?owner__id__exact={carol.pk}"' in column
    chosen = filter_column(admin_client.get(CHANGELIST, {"owner__id__exact": carol.pk}).content.decode())
    assert re.search(rf'<li class="selected">\s*<a href="\?owner__id__exact={carol.pk}"', chosen)
    assert "Clear all filters" in chosen


def test_search_finds_a_deerapi_id_exactly_and_words_of_the_prompt(admin_client, member):
    by_id = finished_prediction(member, deerapi_id="ufawqhfynnddngldkgtslldrkq")
    by_prompt = finished_prediction(member, prompt="A Lighthouse made of glass")

    assert listed(admin_client.get(CHANGELIST, {"q": "ufawqhfynnddngldkgtslldrkq"}).content.decode()) == [by_id.pk]
    assert listed(admin_client.get(CHANGELIST, {"q": "lighthouse"}).content.decode()) == [by_prompt.pk]
    assert listed(admin_client.get(CHANGELIST, {"q": "ufawqhfynn"}).content.decode()) == []


def test_the_approve_action_approves_pending_ones_and_says_what_it_skipped(admin_client, admin_user, member):
    pending = finished_prediction(member)
    failed = finished_prediction(member, status=Status.FAILED)

    response = act(admin_client, "approve_selected", [pending, failed])

    html = response.content.decode()
    assert "Approved 1 prediction." in html
    assert "1 was not changed" in html
    pending.refresh_from_db()
    assert (pending.review_state, pending.reviewed_by) == (ReviewState.APPROVED, admin_user)
    assert AuditEntry.objects.filter(action="prediction.approve", actor=admin_user).count() == 1


def test_the_reject_action_asks_for_a_reason_then_rejects(admin_client, member):
    predictions = [finished_prediction(member), finished_prediction(member, review_state=ReviewState.APPROVED)]

    ask = act(admin_client, "reject_selected", predictions)
    assert ask.status_code == 200
    assert 'name="reason"' in ask.content.decode()
    assert Prediction.objects.filter(review_state=ReviewState.REJECTED).count() == 0

    missing = act(admin_client, "reject_selected", predictions, apply="1", reason="other", details="")
    assert "Give a reason" in missing.content.decode()

    done = act(admin_client, "reject_selected", predictions, apply="1", reason="guidelines", details="")
    assert "Rejected 2 predictions." in done.content.decode()
    assert set(Prediction.objects.values_list("review_reason", flat=True)) == {"Against the team's guidelines"}
    assert AuditEntry.objects.filter(action="prediction.reject").count() == 2


def test_the_repoll_action_schedules_a_poll_for_running_predictions_only(
    admin_client, member, django_capture_on_commit_callbacks
):
    running = finished_prediction(member, status=Status.PROCESSING, deerapi_id="r1", next_poll_at=None)
    done = finished_prediction(member)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = act(admin_client, "repoll_selected", [running, done])

    assert "Asked DeerAPI about 1 running prediction." in response.content.decode()
    assert len(callbacks) == 1, "one poll task, sent after the commit"
    running.refresh_from_db()
    assert running.next_poll_at is not None and running.next_poll_at <= timezone.now()


def test_the_change_page_is_read_only_and_predictions_cannot_be_added_or_deleted(admin_client, member):
    prediction = finished_prediction(member, deerapi_id="dpi-1")
    url = reverse("admin:predictions_prediction_change", args=[prediction.pk])

    html = admin_client.get(url).content.decode()
    assert 'name="deerapi_id"' not in html and 'name="review_state"' not in html and 'name="_save"' not in html
    assert "dpi-1" in html

    admin_client.post(url, {"review_state": "approved", "deerapi_id": "forged"})
    prediction.refresh_from_db()
    assert (prediction.deerapi_id, prediction.review_state) == ("dpi-1", ReviewState.PENDING)
    assert admin_client.get(reverse("admin:predictions_prediction_add")).status_code == 403
    assert admin_client.get(reverse("admin:predictions_prediction_delete", args=[prediction.pk])).status_code == 403


def test_a_search_lists_newest_first_and_its_row_links_keep_the_search(admin_client, member):
    older = finished_prediction(member, prompt="A lantern on a pier")
    newer = finished_prediction(member, prompt="Paper LANTERNS over a river")
    finished_prediction(member, prompt="A lighthouse at dusk")
    Prediction.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))

    html = admin_client.get(CHANGELIST, {"q": "lantern"}).content.decode()

    assert listed(html) == [newer.pk, older.pk]
    change = reverse("admin:predictions_prediction_change", args=[newer.pk])
    assert f'href="{change}?_changelist_filters=q%3Dlantern"' in html


def test_a_search_matching_more_prompts_than_it_lists_still_finds_them(admin_client, member, monkeypatch):
    monkeypatch.setattr("predictions.admin.SEARCH_PROMPTS_LISTED", 1)
    first = finished_prediction(member, prompt="A lantern on a pier")
    second = finished_prediction(member, prompt="Paper lanterns over a river")

    assert set(listed(admin_client.get(CHANGELIST, {"q": "lantern"}).content.decode())) == {first.pk, second.pk}
