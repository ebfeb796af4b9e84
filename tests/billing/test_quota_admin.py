"""The quota parts of the admin site: member limits and team settings (audited), the read-only
ledger with its "adjust" page, and the prediction actions that resolve unknown outcomes or refund."""

import re
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from audit.models import AuditEntry
from billing.models import LedgerEntry, LedgerKind, MemberQuota, Period, TeamSettings
from predictions import services
from predictions.models import Prediction, Status
from tests.world import PRO, SCHNELL, submit

pytestmark = pytest.mark.django_db


def test_changing_a_members_limits_in_the_admin_is_audited(admin_client, admin_user, member):
    quota = MemberQuota.objects.create(user=member, budget=Decimal("1"))
    response = admin_client.post(
        reverse("admin:billing_memberquota_change", args=[quota.pk]),
        {
            "budget": "2.5",
            "period": "day",
            "max_in_flight": "4",
            "allowed_models": [SCHNELL, PRO],
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    quota.refresh_from_db()
    assert (quota.budget, quota.period, quota.max_in_flight) == (Decimal("2.5"), Period.DAY, 4)
    assert sorted(quota.allowed_models) == sorted([SCHNELL, PRO])
    audit = AuditEntry.objects.get(action="quota.change")
    assert (audit.actor, audit.before["budget"], audit.after["budget"]) == (admin_user, "1.0000", "2.5")


def test_limits_for_a_member_are_added_in_the_admin(admin_client, member):
    response = admin_client.post(
        reverse("admin:billing_memberquota_add"),
        {
            "user": member.pk,
            "budget": "",
            "period": "month",
            "max_in_flight": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert MemberQuota.objects.get(user=member).max_in_flight == 1
    assert AuditEntry.objects.filter(action="quota.change").count() == 1


def test_the_team_settings_list_opens_the_one_row_and_saving_it_is_audited(admin_client):
    response = admin_client.get(reverse("admin:billing_teamsettings_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:billing_teamsettings_change", args=[1])
    response = admin_client.post(
        response["Location"],
        {
            "default_budget": "5",
            "default_period": "week",
            "default_max_in_flight": "",
            "team_monthly_budget": "200",
            "embed_download_metadata": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    team = TeamSettings.objects.get(pk=1)
    assert (team.default_budget, team.default_period, team.team_monthly_budget) == (
        Decimal("5"),
        Period.WEEK,
        Decimal("200"),
    )
    assert AuditEntry.objects.get(action="quota.change").target_type == "billing.teamsettings"


def test_an_admin_turns_off_metadata_in_downloads_on_the_team_settings_page(admin_client):
    url = reverse("admin:billing_teamsettings_change", args=[TeamSettings.load().pk])
    page = admin_client.get(url).content.decode()
    assert re.search(r'<input type="checkbox" name="embed_download_metadata"[^>]* checked', page)
    response = admin_client.post(url, {"default_period": "month"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert TeamSettings.objects.get(pk=1).embed_download_metadata is False
    assert AuditEntry.objects.get(action="quota.change").summary == "team: embed_download_metadata"


def test_the_ledger_is_read_only_in_the_admin(admin_client, member):
    entry = submit(member).ledger.get()
    assert admin_client.get(reverse("admin:billing_ledgerentry_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:billing_ledgerentry_add")).status_code == 403
    response = admin_client.post(reverse("admin:billing_ledgerentry_change", args=[entry.pk]), {"amount": "-100"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.amount == Decimal("0.003")


def test_an_admin_adjusts_a_members_spending_with_a_reason(admin_client, admin_user, member):
    url = reverse("admin:billing_ledgerentry_adjust")
    assert "Adjust a member" in admin_client.get(reverse("admin:billing_ledgerentry_changelist")).content.decode()
    response = admin_client.post(url, {"user": member.pk, "amount": "0", "reason": "x"})
    assert response.status_code == 400
    assert "Enter an amount other than zero." in response.content.decode()
    response = admin_client.post(url, {"user": member.pk, "amount": "-1.25", "reason": "refund for a broken run"})
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(kind=LedgerKind.ADJUSTMENT)
    assert (entry.user, entry.amount, entry.created_by, entry.reason) == (
        member,
        Decimal("-1.25"),
        admin_user,
        "refund for a broken run",
    )
    assert AuditEntry.objects.filter(action="ledger.adjust").count() == 1


def run_action(admin_client, action: str, *predictions):
    return admin_client.post(
        reverse("admin:predictions_prediction_changelist"),
        {
            "action": action,
            ACTION_CHECKBOX_NAME: [p.pk for p in predictions],
        },
        follow=True,
    )


def unknown(prediction) -> Prediction:
    services.prediction_transition(prediction.pk, Status.QUEUED, Status.SUBMITTING)
    services.prediction_transition(prediction.pk, Status.SUBMITTING, Status.UNKNOWN)
    prediction.refresh_from_db()
    return prediction


def test_admin_actions_resolve_unknown_outcomes_by_charging_or_refunding(admin_client, member):
    charged, refunded, running = unknown(submit(member, num_outputs=2)), unknown(submit(member)), submit(member)
    response = run_action(admin_client, "resolve_unknown_charge", charged, running)
    html = response.content.decode()
    assert "1 prediction resolved: charged." in html
    assert "1 skipped: only a prediction whose outcome is unknown can be resolved." in html
    assert (
        "1 prediction resolved: refunded."
        in run_action(admin_client, "resolve_unknown_refund", refunded).content.decode()
    )
    charged.refresh_from_db()
    refunded.refresh_from_db()
    assert (charged.status, charged.actual_cost) == (Status.FAILED, Decimal("0.006"))
    assert (refunded.status, refunded.actual_cost) == (Status.FAILED, Decimal("0"))
    assert sum(refunded.ledger.values_list("amount", flat=True)) == 0
    assert Prediction.objects.get(pk=running.pk).status == Status.QUEUED


def test_the_refund_action_gives_a_finished_prediction_back_once(admin_client, member):
    prediction = submit(member)
    services.prediction_cancel(prediction)  # refunded automatically: nothing left
    done = submit(member, num_outputs=3)
    for old, new in (
        (Status.QUEUED, Status.SUBMITTING),
        (Status.SUBMITTING, Status.STORING),
        (Status.STORING, Status.SUCCEEDED),
    ):
        services.prediction_transition(done.pk, old, new, metrics={"image_count": 3})
    html = run_action(admin_client, "refund_selected", prediction, done).content.decode()
    assert "1 prediction refunded." in html
    assert "1 skipped: not finished, or nothing left to refund." in html
    assert sum(done.ledger.values_list("amount", flat=True)) == 0
