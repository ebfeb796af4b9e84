"""/usage/: a member's budget, spending by day and by model as SVG charts, the ledger with
filters and its CSV export; and the budget left shown in every page's header."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import LedgerEntry, LedgerKind, MemberQuota, Period
from predictions.models import Prediction, Status
from tests.world import PRO, SCHNELL, ledger_entry, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("usage:mine"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_shows_the_budget_what_is_left_and_when_it_starts_again(member_client, member):
    MemberQuota.objects.create(user=member, budget=Decimal("5"), period=Period.MONTH, max_in_flight=3)
    submit(member, PRO, prompt="a moose")
    html = member_client.get(reverse("usage:mine")).content.decode()
    assert "$5.00 (Monthly)" in html
    assert "<dd data-budget-remaining><strong>$4.96</strong></dd>" in html
    assert "July 1, 2025, midnight UTC" in html
    assert "1 of at most 3" in html


def test_the_charts_are_svg_with_a_title_a_description_and_a_table_of_the_numbers(member_client, member, other_member):
    ledger_entry(member, "0.04", 3, model_id=PRO)
    ledger_entry(member, "0.009", 5)
    ledger_entry(member, "-0.003", 5, kind=LedgerKind.SETTLE)
    ledger_entry(other_member, "9.99", 5, model_id=PRO)
    html = member_client.get(reverse("usage:mine")).content.decode()
    assert html.count('<svg class="chart-svg"') == 2
    assert '<title id="chart-days-title">Spending by day</title>' in html
    assert (
        "Net spending per day from June 1, 2025 to June 20, 2025: $0.046 in total; most on June 3, 2025 ($0.04)."
    ) in html
    assert (
        "Net spending per model from June 1, 2025 to June 20, 2025: $0.046 in total; most on FLUX1.1 [pro] ($0.04)."
    ) in html
    assert '<tr><th scope="row">June 5, 2025</th><td class="num">$0.006</td></tr>' in html
    assert '<tr><th scope="row">June 4, 2025</th><td class="num">$0.00</td></tr>' in html
    assert "$9.99" not in html, "another member's spending is not shown"
    assert "<script" not in html.split("</head>", 1)[1], "no inline script"


def test_a_chart_shown_again_follows_new_spending_and_the_readers_language(member_client, member):
    """Charts come from the cache (common/rows.py), keyed by their figures and text."""
    ledger_entry(member, "0.04", 3, model_id=PRO)
    assert "$0.04 in total" in member_client.get(reverse("usage:mine")).content.decode()
    ledger_entry(member, "0.009", 5)
    html = member_client.get(reverse("usage:mine")).content.decode()
    assert "$0.049 in total" in html and '<td class="num">$0.009</td>' in html
    zh = member_client.get(reverse("usage:mine"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Spending by day" not in zh


def test_the_ledger_is_filtered_by_kind_model_and_dates(member_client, member):
    reserve = ledger_entry(member, "0.04", 3, model_id=PRO)
    refund = ledger_entry(member, "-0.04", 4, kind=LedgerKind.REFUND, model_id=PRO)
    schnell = ledger_entry(member, "0.003", 10)

    def listed(**query) -> set[int]:
        html = member_client.get(reverse("usage:mine"), query).content.decode()
        return {e.pk for e in (reserve, refund, schnell) if f'<time datetime="{e.created_at.isoformat()}' in html}

    assert listed() == {reserve.pk, refund.pk, schnell.pk}
    assert listed(kind="refund") == {refund.pk}
    assert listed(model=SCHNELL) == {schnell.pk}
    assert listed(since="2025-06-04", until="2025-06-09") == {refund.pk}


def test_bad_dates_get_a_message_on_the_form_not_an_error_page(member_client):
    response = member_client.get(reverse("usage:mine"), {"since": "2025-06-10", "until": "2025-06-01"})
    assert response.status_code == 400
    assert "“To” must not be before “From”." in response.content.decode()
    response = member_client.get(reverse("usage:mine"), {"since": "2020-01-01", "until": "2025-06-01"})
    assert "Choose at most 366 days." in response.content.decode()
    response = member_client.get(reverse("usage:mine"), {"since": "yesterday", "kind": "bogus"})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()


def test_the_csv_export_holds_the_members_filtered_ledger_exactly(member_client, member, other_member, admin_user):
    prediction = submit(member, prompt="x", num_outputs=2)
    ledger_entry(
        member, "-0.5", 2, kind=LedgerKind.ADJUSTMENT, model_id="", reason='=HYPERLINK("x")', created_by=admin_user
    )
    ledger_entry(other_member, "1", 2)
    response = member_client.get(reverse("usage:mine"), {"format": "csv", "since": "2025-06-01"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="deerweb-ledger-alice-2025-06-01-2025-06-20.csv"'
    assert csv_rows(response) == [
        ["created_at", "member", "kind", "amount_usd", "model", "prediction", "reason", "by"],
        ["2025-06-20T12:00:00Z", "alice", "reserve", "0.0060", SCHNELL, str(prediction.pk), "", ""],
        ["2025-06-02T10:00:00Z", "alice", "adjustment", "-0.5000", "", "", '\'=HYPERLINK("x")', "dora"],
    ]
    only_refunds = member_client.get(reverse("usage:mine"), {"format": "csv", "kind": "refund"})
    assert len(csv_rows(only_refunds)) == 1


def test_the_page_costs_the_same_number_of_queries_for_few_or_many_entries(
    member_client, member, django_assert_max_num_queries
):
    for day in (1, 2):
        ledger_entry(member, "0.003", day)
    with django_assert_max_num_queries(12) as few:
        member_client.get(reverse("usage:mine"))
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                user=member,
                kind=LedgerKind.RESERVE,
                amount=Decimal("0.003"),
                model_id=SCHNELL,
                created_at=datetime(2025, 6, 1 + i % 19, i % 24, tzinfo=UTC),
            )
            for i in range(300)
        ]
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = member_client.get(reverse("usage:mine")).content.decode()
    assert "Page 1 of 7" in html


def test_every_page_shows_the_budget_left_in_the_header(member_client, member):
    MemberQuota.objects.create(user=member, budget=Decimal("1"), period=Period.DAY)
    prediction = submit(member, PRO, prompt="x")
    for url in (
        reverse("predictions:list"),
        reverse("predictions:new"),
        prediction.get_absolute_url(),
        reverse("usage:mine"),
    ):
        html = member_client.get(url).content.decode()
        assert "Left today:" in html, url
        assert "<strong>$0.96</strong>" in html, url


def test_the_header_says_unlimited_without_a_budget_and_nothing_when_logged_out(member_client, client):
    assert "Budget: unlimited" in member_client.get(reverse("predictions:list")).content.decode()
    member_client.logout()
    assert "data-budget-left" not in client.get("/accounts/login/").content.decode()


def test_the_live_status_refresh_runs_no_budget_query(member_client, member, django_assert_max_num_queries):
    prediction = submit(member, PRO, prompt="x")
    Prediction.objects.filter(pk=prediction.pk).update(status=Status.PROCESSING)
    with django_assert_max_num_queries(6) as queries:
        member_client.get(reverse("predictions:live", args=[prediction.pk]))
    assert not any("billing_ledgerentry" in q["sql"] for q in queries.captured_queries)


def test_the_date_boxes_hold_iso_dates_in_simplified_chinese(member_client):
    # <input type="date"> takes only YYYY-MM-DD; any other form of a date leaves the box empty.
    html = member_client.get(reverse("usage:mine"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<input type="date" name="since" value="2025-06-01"' in html
    assert '<input type="date" name="until" value="2025-06-20"' in html

    response = member_client.get(reverse("usage:mine"), {"since": "2025-06-02"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert '<input type="date" name="since" value="2025-06-02"' in response.content.decode()
