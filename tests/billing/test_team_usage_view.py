"""/usage/team/: for admins only — the team's spending, a ranking of members with their limits
(each member's small limits form fetched on demand), DeerAPI's balance against what DeerWeb
recorded, and the team's CSV."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEntry
from billing.models import LedgerEntry, LedgerKind, MemberQuota, Period, TeamSettings
from predictions.models import User
from tests.world import FROZEN_NOW, PRO, SCHNELL, ledger_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_members_and_reviewers_may_not_see_it(client, member, reviewer):
    for user in (member, reviewer):
        client.force_login(user)
        assert client.get(reverse("usage:team")).status_code == 403
        assert client.post(reverse("usage:member_quota", args=[member.pk]), {"period": "day"}).status_code == 403
        assert client.get(reverse("usage:member_quota", args=[member.pk]), {"part": "limits"}).status_code == 403
        assert client.post(reverse("usage:balance_refresh")).status_code == 403
    assert not MemberQuota.objects.exists()


def test_a_member_with_the_manage_team_permission_may(client, member):
    member.user_permissions.add(Permission.objects.get(codename="manage_team"))
    client.force_login(member)
    assert client.get(reverse("usage:team")).status_code == 200


def test_members_are_ranked_by_spending_with_their_budget_and_what_is_left(admin_client, member, other_member):
    MemberQuota.objects.create(user=member, budget=Decimal("1"), period=Period.MONTH)
    TeamSettings.objects.create(
        pk=1, default_budget=Decimal("2"), default_period=Period.WEEK, team_monthly_budget=Decimal("50")
    )
    ledger_entry(member, "0.04", model_id=PRO)
    ledger_entry(other_member, "0.5")
    ledger_entry(other_member, "-0.1", kind=LedgerKind.ADJUSTMENT, model_id="")
    html = admin_client.get(reverse("usage:team")).content.decode()
    assert html.index('data-member="bob"') < html.index('data-member="alice"') < html.index('data-member="dora"')
    bob = html[html.index('data-member="bob"') : html.index('data-member="alice"')]
    assert '<td class="num" data-spent>$0.40</td>' in bob
    assert "$2.00 (Weekly)" in bob and "team default" in bob
    alice = html[html.index('data-member="alice"') : html.index('data-member="dora"')]
    assert "$1.00 (Monthly)" in alice and "$0.96" in alice
    assert "<dd data-team-spent-month>$0.44</dd>" in html
    assert "Admin adjustments" in html, "the by-model chart shows adjustments apart"
    assert "Edit limits of alice" in html


def test_rows_shown_again_follow_new_spending_limits_and_names(admin_client, member):
    """Member and ledger rows come from the cache (common/rows.py); their keys hold what can change."""
    ledger_entry(member, "0.04", model_id=PRO)
    html = admin_client.get(reverse("usage:team")).content.decode()
    assert '<td class="num" data-spent>$0.04</td>' in html and "<td>alice</td>" in html

    ledger_entry(member, "0.5")
    MemberQuota.objects.create(user=member, budget=Decimal("3"), period=Period.MONTH)
    User.objects.filter(pk=member.pk).update(username="alice.b")
    html = admin_client.get(reverse("usage:team")).content.decode()
    row = html[html.index('data-member="alice.b"') :]
    assert '<td class="num" data-spent>$0.54</td>' in row and "$3.00 (Monthly)" in row and "$2.46" in row
    assert "<td>alice</td>" not in html and html.count("<td>alice.b</td>") == 2, "both ledger rows, renamed"


def test_an_admin_sets_a_members_limits_from_the_page_and_it_is_audited(admin_client, admin_user, member):
    response = admin_client.post(
        reverse("usage:member_quota", args=[member.pk]),
        {
            "budget": "3.50",
            "period": "week",
            "max_in_flight": "2",
            "allowed_models": [PRO],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("usage:team")
    quota = MemberQuota.objects.get(user=member)
    assert (quota.budget, quota.period, quota.max_in_flight, quota.allowed_models) == (
        Decimal("3.5"),
        Period.WEEK,
        2,
        [PRO],
    )
    audit = AuditEntry.objects.get(action="quota.change")
    assert (audit.actor, audit.target_id) == (admin_user, str(quota.pk))
    assert audit.after == {"budget": "3.50", "period": "week", "max_in_flight": 2, "allowed_models": [PRO]}


def test_bad_limits_get_messages_on_the_form(admin_client, member):
    response = admin_client.post(
        reverse("usage:member_quota", args=[member.pk]),
        {
            "budget": "-1",
            "period": "fortnight",
            "max_in_flight": "0",
            "allowed_models": ["acme/nothing"],
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 0." in html
    assert "Select a valid choice. fortnight is not one of the available choices." in html
    assert "Ensure this value is greater than or equal to 1." in html
    assert "Select a valid choice. acme/nothing is not one of the available choices." in html
    assert not MemberQuota.objects.exists()


def test_refresh_now_asks_a_worker_and_never_deerapi_from_the_request(
    admin_client, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr("celery.app.base.Celery.send_task", lambda app, name, *a, **kw: sent.append(name))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("usage:balance_refresh"), follow=True)
    assert sent == ["predictions.tasks.deerapi_balance_refresh"]
    assert "DeerWeb is asking DeerAPI for its balance" in response.content.decode()


def test_deerapis_balance_is_shown_against_what_deerweb_recorded(admin_client):
    TeamSettings.objects.create(
        pk=1,
        deerapi_checked_at=FROZEN_NOW,
        deerapi_username="team-account",
        deerapi_balance=Decimal("12.5"),
        deerapi_used=Decimal("7.5"),
        deerapi_request_count=42,
        deerapi_recorded=Decimal("3.1"),
        deerapi_baseline_at=datetime(2025, 6, 1, tzinfo=UTC),
        deerapi_baseline_used=Decimal("5"),
        deerapi_baseline_recorded=Decimal("1"),
        deerapi_keys=[{"name": "deerweb", "remain_quota": "-1", "used_quota": "7.5"}],
        deerapi_check_error="DeerAPI's balance endpoint did not answer: ConnectTimeout",
        deerapi_check_failed_at=FROZEN_NOW,
    )
    html = admin_client.get(reverse("usage:team")).content.decode()
    assert "<strong>$12.50</strong> (team-account)" in html
    assert "<dd data-deerapi-used-since>$2.50</dd>" in html
    assert "<dd data-deerweb-recorded-since>$2.10</dd>" in html
    assert "<dd data-deerapi-difference><strong>$0.40</strong></dd>" in html
    assert "42 requests" in html
    assert "unlimited" in html
    assert "The last reading failed" in html


def test_before_the_first_reading_the_page_says_so(admin_client):
    assert "DeerAPI's balance has not been read yet." in admin_client.get(reverse("usage:team")).content.decode()


def test_the_team_csv_has_every_members_entries_or_one_members(admin_client, member, other_member):
    ledger_entry(member, "0.04", model_id=PRO)
    ledger_entry(other_member, "0.003")
    rows = list(
        csv.reader(
            io.StringIO(b"".join(admin_client.get(reverse("usage:team"), {"format": "csv"}).streaming_content).decode())
        )
    )
    assert sorted(row[1] for row in rows[1:]) == ["alice", "bob"]
    only_bob = admin_client.get(reverse("usage:team"), {"format": "csv", "member": other_member.pk})
    assert only_bob["Content-Disposition"].startswith(f'attachment; filename="deerweb-ledger-{other_member.pk}-')
    rows = list(csv.reader(io.StringIO(b"".join(only_bob.streaming_content).decode())))
    assert [row[1] for row in rows[1:]] == ["bob"]


def test_the_page_costs_the_same_number_of_queries_for_few_or_many_members_and_entries(
    admin_client, member, django_assert_max_num_queries
):
    ledger_entry(member, "0.003")
    with django_assert_max_num_queries(16) as few:
        admin_client.get(reverse("usage:team"))
    users = User.objects.bulk_create([User(username=f"m{i}") for i in range(30)])
    MemberQuota.objects.bulk_create([MemberQuota(user=u, budget=Decimal("1")) for u in users[:15]])
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                user=users[i % 30],
                kind=LedgerKind.RESERVE,
                amount=Decimal("0.003"),
                model_id=SCHNELL,
                created_at=datetime(2025, 6, 1 + i % 19, tzinfo=UTC),
            )
            for i in range(500)
        ]
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(reverse("usage:team"))


def test_each_member_has_a_link_to_their_limits_and_no_form_until_it_is_followed(admin_client, member, other_member):
    html = admin_client.get(reverse("usage:team")).content.decode()
    limits = reverse("usage:member_quota", args=[member.pk])
    assert f'<a href="{limits}" data-inline-form="{limits}?part=limits">Edit limits of alice</a>' in html
    assert 'name="budget"' not in html, "the forms are fetched on demand, not rendered for every member"


def test_the_small_form_is_fetched_alone_with_ids_of_its_own(admin_client, member):
    MemberQuota.objects.create(user=member, budget=Decimal("4"), period=Period.WEEK, max_in_flight=3)
    response = admin_client.get(reverse("usage:member_quota", args=[member.pk]), {"part": "limits"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" in html
    assert f'action="{reverse("usage:member_quota", args=[member.pk])}?part=limits"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="budget" value="4.00"' in html and f'id="q{member.pk}-budget"' in html
    assert '<option value="week" selected>' in html
    assert f'<label for="q{member.pk}-max_in_flight">' in html
    assert 'name="allowed_models"' not in html


def test_the_small_form_beside_a_member_leaves_their_allowed_models_alone(admin_client, member):
    MemberQuota.objects.create(user=member, allowed_models=[PRO])
    html = admin_client.get(reverse("usage:member_quota", args=[member.pk]), {"part": "limits"}).content.decode()
    assert f'action="{reverse("usage:member_quota", args=[member.pk])}?part=limits"' in html
    response = admin_client.post(
        f"{reverse('usage:member_quota', args=[member.pk])}?part=limits",
        {"budget": "1", "period": "day", "max_in_flight": ""},
    )
    assert response.status_code == 302
    quota = MemberQuota.objects.get(user=member)
    assert (quota.budget, quota.period, quota.allowed_models) == (Decimal("1"), Period.DAY, [PRO])


def test_a_member_without_limits_of_their_own_is_shown_the_team_defaults_to_start_from(admin_client, member):
    TeamSettings.objects.create(pk=1, default_budget=Decimal("2.5"), default_period=Period.WEEK)
    html = admin_client.get(reverse("usage:member_quota", args=[member.pk])).content.decode()
    assert "the team defaults apply" in html
    assert 'name="budget" value="2.50"' in html
    assert '<option value="week" selected>' in html
    assert 'name="allowed_models"' in html
