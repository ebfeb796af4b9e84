"""/predictions/: filters in the query string, search, list and grid views, keyset pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from predictions.models import Prediction, Prompt, Status
from tests.world import PRO, SCHNELL, add_output, finished_prediction

pytestmark = pytest.mark.django_db
LIST = reverse("predictions:list")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def make(owner, text="a red deer", *, model=SCHNELL, status=Status.SUCCEEDED, when=NOON) -> Prediction:
    """A prediction of `owner`'s made at `when`, without outputs."""
    return finished_prediction(owner, prompt=text, model_id=model, status=status, created_at=when, outputs=0)


def shown(client, **params) -> set[int]:
    response = client.get(LIST, params)
    assert response.status_code == 200, response.content.decode()[:500]
    return {int(pk) for pk in re.findall(r'href="/predictions/(\d+)/"', response.content.decode())}


def test_status_model_and_date_filters_narrow_the_history(member_client, member):
    done = make(member)
    failed = make(member, status=Status.FAILED)
    pro = make(member, model=PRO)
    old = make(member, when=NOON - timedelta(days=3))
    assert shown(member_client) == {done.pk, failed.pk, pro.pk, old.pk}
    assert shown(member_client, status="failed") == {failed.pk}
    assert shown(member_client, model=PRO) == {pro.pk}
    assert shown(member_client, **{"from": "2026-03-09"}) == {done.pk, failed.pk, pro.pk}
    assert shown(member_client, to="2026-03-08") == {old.pk}
    assert shown(member_client, **{"from": "2026-03-07", "to": "2026-03-07"}) == {old.pk}
    assert shown(member_client, status="succeeded", model=SCHNELL, to="2026-03-10") == {done.pk, old.pk}


def test_search_finds_words_in_the_prompt_whatever_their_case(member_client, member):
    stag = make(member, "A STAG in the mist")
    make(member, "a doe at dawn")
    percent = make(member, "100% deer")
    assert shown(member_client, q="stag") == {stag.pk}
    assert shown(member_client, q="in THE mist") == {stag.pk}
    assert shown(member_client, q="%") == {percent.pk}, "LIKE wildcards are searched for, not obeyed"
    assert shown(member_client, q="_") == set()


def test_the_filters_live_in_the_query_string_and_survive_paging_and_view_changes(member_client, member):
    for n in range(27):
        make(member, f"deer {n}", when=NOON + timedelta(minutes=n))
    html = member_client.get(LIST, {"q": "deer", "status": "succeeded"}).content.decode()
    assert 'name="q" value="deer"' in html
    assert '<option value="succeeded" selected>' in html
    older = re.search(r'href="\?([^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "q=deer" in older and "status=succeeded" in older and "after=" in older
    grid = re.search(r'href="\?([^"]*)">Grid</a>', html).group(1).replace("&amp;", "&")
    assert "q=deer" in grid and "view=grid" in grid and "after" not in grid


def test_keyset_pages_go_older_and_newer_without_gaps_or_repeats(member_client, member):
    made = [make(member, f"deer {n}", when=NOON + timedelta(minutes=n // 2)) for n in range(30)]
    newest_first = sorted(made, key=lambda p: (p.created_at, p.pk), reverse=True)
    first = member_client.get(LIST).content.decode()
    assert first.count('class="thumb-cell"') == 25
    after = int(re.search(r"after=(\d+)", first).group(1))
    assert after == newest_first[24].pk
    second = member_client.get(LIST, {"after": after}).content.decode()
    assert shown(member_client, after=after) == {p.pk for p in newest_first[25:]}
    before = int(re.search(r"before=(\d+)", second).group(1))
    assert shown(member_client, before=before) == {p.pk for p in newest_first[:25]}
    assert 'rel="next"' not in second


def test_the_grid_shows_every_output_and_a_tile_for_predictions_without_one(member_client, member):
    two = make(member)
    add_output(two, 0)
    add_output(two, 1)
    running = make(member, "still going", status=Status.PROCESSING)
    html = member_client.get(LIST, {"view": "grid"}).content.decode()
    assert f'src="/predictions/{two.pk}/outputs/0/thumbnail/"' in html
    assert f'src="/predictions/{two.pk}/outputs/1/thumbnail/"' in html
    assert 'class="no-output"' in html and "still going" in html
    assert f'data-prediction-status="{running.status}"' in html
    assert '<span aria-current="page">Grid</span>' in html


def test_a_finished_predictions_row_shown_again_follows_what_changed_since(member_client, member):
    """Finished rows come from the cache (common/rows.py); their keys hold what can still change."""
    done = make(member, "a stag at dusk")
    assert "Succeeded" in member_client.get(LIST).content.decode()
    assert "已完成" in member_client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode(), "per language"
    Prediction.objects.filter(pk=done.pk).update(status=Status.FAILED)
    assert f'data-prediction-status="{Status.FAILED}"' in member_client.get(LIST).content.decode()
    assert 'class="no-output"' in member_client.get(LIST, {"view": "grid"}).content.decode()
    add_output(done, 0)
    html = member_client.get(LIST, {"view": "grid"}).content.decode()
    assert f'src="/predictions/{done.pk}/outputs/0/thumbnail/"' in html and 'class="no-output"' not in html
    assert f'src="/predictions/{done.pk}/outputs/0/thumbnail/"' in member_client.get(LIST).content.decode()


def test_a_running_predictions_row_shown_again_follows_its_status(member_client, member):
    running = make(member, "still going", status=Status.PROCESSING)
    assert f'data-prediction-status="{Status.PROCESSING}"' in member_client.get(LIST).content.decode()
    Prediction.objects.filter(pk=running.pk).update(status=Status.STORING)
    assert f'data-prediction-status="{Status.STORING}"' in member_client.get(LIST).content.decode()
    assert 'class="no-output"' in member_client.get(LIST, {"view": "grid"}).content.decode()
    add_output(running, 0)  # stored while it runs: its tile comes with the thumbnail
    html = member_client.get(LIST, {"view": "grid"}).content.decode()
    assert f'src="/predictions/{running.pk}/outputs/0/thumbnail/"' in html and 'class="no-output"' not in html


@pytest.mark.parametrize("view", ["list", "grid"])
def test_the_history_costs_the_same_queries_for_few_or_many_rows(
    member_client, member, view, django_assert_max_num_queries
):
    for _ in range(3):
        add_output(make(member))
    with django_assert_max_num_queries(12) as few:
        member_client.get(LIST, {"view": view, "q": "deer", "status": "succeeded"})
    for n in range(40):
        add_output(make(member, when=NOON + timedelta(seconds=n)))
    with django_assert_max_num_queries(len(few.captured_queries)):
        member_client.get(LIST, {"view": view, "q": "deer", "status": "succeeded"})
    anchor = Prediction.objects.order_by("pk")[30].pk
    with django_assert_max_num_queries(len(few.captured_queries) + 1):  # + the anchor row of `after`
        member_client.get(LIST, {"view": view, "after": anchor})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-03-10", "to": "2026-03-01"}, "“To” must not be before “From”."),
        ({"from": "yesterday"}, "Enter a valid date."),
        ({"status": "lost"}, "Select a valid choice."),
        ({"model": "acme/none"}, "Select a valid choice."),
    ],
)
def test_bad_filters_get_a_message_not_an_error_page(member_client, member, params, message):
    make(member)
    response = member_client.get(LIST, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_member_never_sees_another_members_predictions_however_they_filter(member_client, member, other_member):
    mine = make(member, "deer")
    make(other_member, "deer")
    assert shown(member_client, q="deer") == {mine.pk}


@pytest.mark.postgresql  # the trigram index exists on PostgreSQL only
def test_prompt_search_can_use_the_trigram_index(member):
    from predictions import selectors  # noqa: F401 - registers the lookup the history search uses

    # With a handful of rows PostgreSQL prefers other plans; forbidding those shows the
    # search *can* use the index (Django's icontains, UPPER(text) LIKE, could not).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = Prompt.objects.filter(text__contains_text="stag").explain()
    assert "prompt_text_trgm_idx" in plan, plan
