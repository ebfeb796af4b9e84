"""The home page at `/`: what each role sees, the empty state, and a constant number of queries."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import LedgerEntry, LedgerKind, MemberQuota, Period, TeamSettings
from ops import health
from predictions.models import ReviewState, Status

from ..world import FROZEN_NOW, PASSWORD, finished_prediction, ledger_entry, make_prediction


def home(client: Client) -> str:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, name: str) -> str:
    """The home page's part `data-home="name"` up to the next one (or the end)."""
    start = html.index(f'data-home="{name}"')
    rest = html[start + 1 :]
    end = rest.find('data-home="')
    return rest if end == -1 else rest[:end]


def test_anonymous_visitors_are_asked_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_logging_in_leads_home(client, member):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home") == "/"


def test_a_brand_new_member_is_asked_to_make_a_first_image(member_client):
    html = home(member_client)
    first = section(html, "first")
    assert "Make your first image" in first
    assert f'href="{reverse("predictions:new")}"' in first
    assert 'data-home="running"' not in html and 'data-home="results"' not in html
    assert 'data-home="queue"' not in html and 'data-home="team"' not in html


def test_a_member_sees_what_runs_now_live_and_their_latest_results(member_client, member, other_member):
    running = make_prediction(member, status=Status.PROCESSING)
    queued = make_prediction(member)
    done = [finished_prediction(member, prompt=f"deer {i}") for i in range(3)]
    failed = finished_prediction(member, prompt="a failed deer", status=Status.FAILED, outputs=0)
    theirs = finished_prediction(other_member, prompt="bob's deer")
    make_prediction(other_member, status=Status.PROCESSING)

    html = home(member_client)
    now = section(html, "running")
    for prediction in (running, queued):
        assert f'data-live-url="{reverse("predictions:live", args=[prediction.pk])}"' in now
    assert now.count("data-live-url=") == 2, "only the member's own"
    assert "Working on it" in now

    results = section(html, "results")
    links = re.findall(r'href="/predictions/(\d+)/"', results)
    assert links == [str(p.pk) for p in reversed(done)], "newest first, succeeded only"
    assert results.count("/thumbnail/") == 3
    assert str(failed.pk) not in links and str(theirs.pk) not in links
    assert "Make your first image" not in html


def test_at_most_six_running_predictions_show_with_a_way_to_the_rest(member_client, member):
    for _ in range(7):
        make_prediction(member, status=Status.PROCESSING)
    now = section(home(member_client), "running")
    assert now.count("data-live-url=") == 6
    assert "More are running" in now


def test_a_member_sees_their_spending_against_their_budget(member_client, member, frozen_clock):
    MemberQuota.objects.create(user=member, budget=Decimal("10"), period=Period.MONTH)
    ledger_entry(member, "2.50", day=3)
    ledger_entry(member, "1.25", day=19)
    ledger_entry(member, "-0.25", day=19, kind=LedgerKind.REFUND)
    ledger_entry(member, "9", day=1)
    spending = section(home(member_client), "spending")
    assert "Your spending this month" in spending
    assert "<strong data-home-spent>$12.50</strong>" in spending
    assert "of your $10.00 budget" in spending
    assert 'value="100"' in spending, "the meter is full, never past it"
    assert "$0.00 left" in spending


def test_a_member_without_a_budget_sees_what_they_spent_this_month(member_client, member, frozen_clock):
    ledger_entry(member, "1.50", day=2)
    ledger_entry(member, "4", day=20)
    spending = section(home(member_client), "spending")
    assert "<strong data-home-spent>$5.50</strong>" in spending
    assert "No budget limits your spending." in spending
    assert "<meter" not in spending


def test_a_weekly_budget_counts_this_week_only(member_client, member, frozen_clock):
    MemberQuota.objects.create(user=member, budget=Decimal("5"), period=Period.WEEK)
    ledger_entry(member, "3", day=2)  # an earlier week
    ledger_entry(member, "1", day=17)  # Tuesday of FROZEN_NOW's week
    spending = section(home(member_client), "spending")
    assert "Your spending this week" in spending
    assert "<strong data-home-spent>$1.00</strong>" in spending and "of your $5.00 budget" in spending


def test_a_reviewer_sees_the_queue_size_and_its_oldest_prediction(client, reviewer, member, other_member):
    oldest = finished_prediction(member, prompt="the oldest deer", created_at=FROZEN_NOW)
    finished_prediction(other_member, prompt="a newer deer")
    finished_prediction(member, prompt="an approved deer", review_state=ReviewState.APPROVED)
    client.force_login(reviewer)
    queue = section(home(client), "queue")
    assert "<strong data-home-queue-size>2</strong>" in queue
    assert "predictions wait for review" in queue
    assert "the oldest deer" in queue and f'href="/predictions/{oldest.pk}/"' in queue
    assert "by alice" in queue
    assert f'href="{reverse("review:queue")}"' in queue


def test_a_reviewer_with_an_empty_queue_is_told_so(client, reviewer):
    client.force_login(reviewer)
    queue = section(home(client), "queue")
    assert "<strong data-home-queue-size>0</strong>" in queue and "Nothing waits for review." in queue


def test_members_see_neither_the_queue_nor_the_team(member_client, member):
    finished_prediction(member)
    html = home(member_client)
    assert 'data-home="queue"' not in html and 'data-home="team"' not in html


def test_an_admin_sees_the_teams_month_the_deerapi_balance_and_health(admin_client, admin_user, member, frozen_clock):
    TeamSettings.objects.create(
        pk=1,
        team_monthly_budget=Decimal("100"),
        deerapi_checked_at=FROZEN_NOW,
        deerapi_baseline_at=FROZEN_NOW,
        deerapi_balance=Decimal("42.5"),
        deerapi_used=Decimal("7"),
    )
    ledger_entry(member, "20", day=5)
    ledger_entry(admin_user, "5", day=6)
    last_month = ledger_entry(member, "50", day=5)
    LedgerEntry.objects.filter(pk=last_month.pk).update(created_at=FROZEN_NOW.replace(month=5))
    html = home(admin_client)
    team = section(html, "team")
    assert "<strong data-home-team-spent>$25.00</strong>" in team
    assert "of the team's $100.00 budget" in team and 'value="25"' in team
    assert "<strong>$42.50</strong>" in team
    assert "data-home-queue-size" in html, "an admin reviews too"


def test_an_admin_is_warned_of_a_failing_check_and_of_deerapi(admin_client, frozen_clock):
    TeamSettings.objects.create(pk=1, deerapi_key_rejected_since=FROZEN_NOW)
    team = section(home(admin_client), "team")
    assert 'data-home-health="failing"' in team, "no sweep has run: the worker check fails"
    assert 'data-health-check="worker"' in team
    assert "DeerAPI rejects DeerWeb's key" in team
    assert "not read yet" in team


def test_an_admin_arriving_while_deerweb_starts_sees_it_starting_not_failing(admin_client, monkeypatch):
    monkeypatch.setattr(health, "_started", timezone.now() - timedelta(seconds=5))
    team = section(home(admin_client), "team")
    assert 'data-home-health="starting"' in team
    assert 'data-health="starting"' in team and "The background worker has not reported yet" in team
    assert 'data-health="failing"' not in team


@pytest.mark.parametrize("role", ["member", "reviewer", "admin_user"])
def test_the_page_costs_the_same_queries_with_many_predictions(request, client, role, django_assert_max_num_queries):
    user = request.getfixturevalue(role)
    owner = request.getfixturevalue("other_member")
    client.force_login(user)
    finished_prediction(user)
    finished_prediction(owner)
    make_prediction(user, status=Status.PROCESSING)
    with django_assert_max_num_queries(30) as few:
        home(client)
    for i in range(12):
        finished_prediction(user, prompt=f"mine {i}", outputs=2)
        finished_prediction(owner, prompt=f"theirs {i}")
        make_prediction(user, status=Status.PROCESSING)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = home(client)
    assert section(html, "running").count("data-live-url=") == 6
    assert len(re.findall(r'href="/predictions/\d+/"', section(html, "results"))) == 8


def test_the_home_page_and_its_menus_are_in_chinese_for_a_chinese_browser(client, reviewer):
    client.force_login(reviewer)
    html = client.get(reverse("home"), headers={"accept-language": "zh-hans"}).content.decode()
    assert "你好，charlie" in html and "生成你的第一张图片" in html and "没有待审核的生成任务。" in html
    assert "<summary>创建</summary>" in html and "<summary>作品库</summary>" in html
    assert "<summary>团队</summary>" in html
