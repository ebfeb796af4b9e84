"""Budget alerts: a threshold reached by what a member (or the team) has committed is recorded
once per period, and told once: a notification, an email, a post to the team's Slack webhook."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from alerts import delivery, services, tasks
from billing import services as billing
from billing.models import BudgetAlert, LedgerKind, MemberQuota, Period, TeamSettings
from notifications.models import Notification
from predictions.models import User
from tests.world import PRO, SCHNELL, WebhookReceiver, submit


@pytest.fixture
def deliver_now(monkeypatch):
    """The delivery tasks run in this process, as soon as their transaction commits."""
    monkeypatch.setattr(tasks.budget_alert_email, "delay", delivery.budget_alert_email)
    monkeypatch.setattr(tasks.budget_alert_slack, "delay", delivery.budget_alert_slack)


@pytest.fixture
def slack(webhook_receiver: WebhookReceiver, settings) -> WebhookReceiver:
    settings.SLACK_WEBHOOK_URL = webhook_receiver.url("/services/T000/B000/secret-part")
    return webhook_receiver


def budget(member: User, amount: str, thresholds: list[int] | None = None) -> None:
    MemberQuota.objects.create(user=member, budget=Decimal(amount), period=Period.MONTH, alert_thresholds=thresholds)


def submit_committed(member: User, model_id: str, capture, **input) -> None:
    with capture(execute=True):
        submit(member, model_id, **input)


def test_a_submission_reaching_80_percent_tells_the_member_once_in_each_way(
    member, deliver_now, slack, django_capture_on_commit_callbacks
):
    member.email = "member@example.com"
    member.save()
    budget(member, "0.05")

    submit_committed(member, PRO, django_capture_on_commit_callbacks)  # $0.04 of $0.05

    (alert,) = BudgetAlert.objects.all()
    assert (alert.subject_key, alert.threshold, alert.spent) == (f"member:{member.pk}", 80, Decimal("0.04"))
    (note,) = Notification.objects.filter(recipient=member)
    assert note.params["spent"] == "$0.04" and note.params["budget"] == "$0.05"
    (message,) = mail.outbox
    assert message.to == ["member@example.com"]
    assert "80%" in message.subject
    assert "$0.04 of $0.05" in message.body
    (post,) = slack.wait_for(1)
    text = json.loads(post.body)["text"]
    assert text.startswith(f"DeerWeb budget alert: {member.username} reached 80% of their budget")


def test_spending_more_in_the_same_period_does_not_alert_again(
    member, deliver_now, slack, django_capture_on_commit_callbacks
):
    member.email = "member@example.com"
    member.save()
    budget(member, "0.05")
    submit_committed(member, PRO, django_capture_on_commit_callbacks)
    submit_committed(member, SCHNELL, django_capture_on_commit_callbacks)  # 86 %: past 80 % already

    assert BudgetAlert.objects.count() == 1
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1
    assert len(slack.wait_for(1)) == 1


def test_the_next_period_alerts_again(member, deliver_now, django_capture_on_commit_callbacks):
    budget(member, "0.05")
    with time_machine.travel(datetime(2025, 6, 10, 12, tzinfo=UTC), tick=False):
        submit_committed(member, PRO, django_capture_on_commit_callbacks)
    with time_machine.travel(datetime(2025, 7, 2, 12, tzinfo=UTC), tick=False):
        submit_committed(member, PRO, django_capture_on_commit_callbacks)

    starts = list(BudgetAlert.objects.order_by("period_start").values_list("period_start__month", flat=True))
    assert starts == [6, 7]
    assert Notification.objects.filter(recipient=member).count() == 2


def test_jumping_past_two_thresholds_at_once_tells_once_about_the_highest(
    member, deliver_now, django_capture_on_commit_callbacks
):
    budget(member, "0.04", thresholds=[50, 100])
    submit_committed(member, PRO, django_capture_on_commit_callbacks)  # exactly the budget

    assert sorted(BudgetAlert.objects.values_list("threshold", flat=True)) == [50, 100]
    (note,) = Notification.objects.all()
    assert note.params["threshold"] == 100


def test_a_refused_submission_records_no_alert(member, deliver_now, django_capture_on_commit_callbacks):
    budget(member, "0.03")
    with pytest.raises(billing.QuotaExceeded), django_capture_on_commit_callbacks(execute=True):
        submit(member, PRO)
    assert not BudgetAlert.objects.exists()
    assert not Notification.objects.exists()


def test_the_team_budget_alerts_the_admins(
    member, admin_user, reviewer, deliver_now, django_capture_on_commit_callbacks
):
    admin_user.email = "admin@example.com"
    admin_user.save()
    team = TeamSettings.load()
    team.team_monthly_budget = Decimal("0.05")
    team.save()

    submit_committed(member, PRO, django_capture_on_commit_callbacks)

    (alert,) = BudgetAlert.objects.filter(subject_key="team")
    assert alert.threshold == 80
    assert list(Notification.objects.values_list("recipient", flat=True)) == [admin_user.pk]
    (message,) = mail.outbox
    assert message.to == ["admin@example.com"]
    assert "team" in message.subject


def test_a_member_without_an_email_address_is_told_in_deerweb_only(
    member, deliver_now, django_capture_on_commit_callbacks
):
    member.email = ""
    member.save()
    budget(member, "0.05")
    submit_committed(member, PRO, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(recipient=member).count() == 1
    assert mail.outbox == []


def test_the_email_is_in_the_language_the_member_submitted_in(member, deliver_now, django_capture_on_commit_callbacks):
    from django.utils import translation

    member.email = "member@example.com"
    member.save()
    budget(member, "0.05")
    with translation.override("zh-hans"):
        submit_committed(member, PRO, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.subject == "DeerWeb：你的支出已达到预算的 80%"


def test_an_admins_adjustment_can_reach_a_threshold(
    member, admin_user, deliver_now, django_capture_on_commit_callbacks
):
    budget(member, "1.00")
    with django_capture_on_commit_callbacks(execute=True):
        billing.ledger_adjust(member, Decimal("0.85"), "a correction", by=admin_user)
    assert list(BudgetAlert.objects.values_list("threshold", flat=True)) == [80]


def test_a_settlement_above_the_reservation_can_reach_a_threshold(
    member, deliver_now, django_capture_on_commit_callbacks
):
    budget(member, "0.01")
    prediction = submit(member, SCHNELL)  # $0.003 reserved: 30 %
    assert not BudgetAlert.objects.exists()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        billing.prediction_charge(prediction, LedgerKind.SETTLE, Decimal("0.006"))  # $0.009: 90 %
    assert list(BudgetAlert.objects.values_list("threshold", flat=True)) == [80]
    assert Notification.objects.filter(recipient=member).count() == 1


def test_a_slack_post_the_receiver_fails_is_retried_and_its_url_never_logged(member, slack, caplog):
    budget(member, "0.05")
    submit(member, PRO)
    alert = BudgetAlert.objects.get()
    slack.answer(503)
    with caplog.at_level(logging.INFO, logger="alerts"), pytest.raises(delivery.SlackPostFailed):
        delivery.budget_alert_slack(alert.pk)
    assert delivery.budget_alert_slack(alert.pk) is True
    assert len(slack.wait_for(2)) == 2
    assert "secret-part" not in caplog.text
    assert "127.0.0.1" in caplog.text


def test_a_slack_post_refused_for_good_is_dropped(member, slack):
    budget(member, "0.05")
    submit(member, PRO)
    slack.answer(404)
    assert delivery.budget_alert_slack(BudgetAlert.objects.get().pk) is False


def test_without_a_slack_url_nothing_is_posted(member, settings):
    settings.SLACK_WEBHOOK_URL = ""
    budget(member, "0.05")
    submit(member, PRO)
    assert delivery.budget_alert_slack(BudgetAlert.objects.get().pk) is False


def test_the_stored_slack_url_is_encrypted_and_used(admin_user, webhook_receiver, settings):
    settings.SLACK_WEBHOOK_URL = ""
    url = webhook_receiver.url("/services/secret")
    services.slack_url_set(url, by=admin_user)
    from alerts.models import AlertSettings

    stored = AlertSettings.objects.get().slack_url_encrypted
    assert "secret" not in stored and stored
    from audit.models import AuditEntry

    (entry,) = AuditEntry.objects.filter(action="alerts.slack_set")
    assert entry.summary == "127.0.0.1", "the host only: the path is the secret"
    assert services.slack_url() == url
    assert services.slack_source() == services.SlackSource.STORED
    assert services.slack_url_clear(by=admin_user)
    assert services.slack_url() == ""


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://93.184.216.34/hook", "https://"),
        ("https://10.0.0.1/hook", "Slack URL"),
        ("not a url", "Slack URL"),
    ],
)
def test_a_slack_url_must_be_https_and_public(url, problem):
    with pytest.raises(ValueError, match=problem):
        services.slack_url_check(url)


@pytest.mark.parametrize(
    ("text", "values"),
    [("80, 100", [80, 100]), ("100,80", [80, 100]), ("50 %; 90", [50, 90]), ("", [])],
)
def test_thresholds_are_read_in_order(text, values):
    from billing import alerts

    assert alerts.alert_thresholds_parse(text) == values


@pytest.mark.parametrize(
    ("text", "problem"),
    [("80, 80", "twice"), ("0", "from 1%"), ("1001", "to 1000%"), ("eighty", "whole percentage")],
)
def test_wrong_thresholds_are_refused_with_a_message(text, problem):
    from billing import alerts

    with pytest.raises(ValueError, match=problem):
        alerts.alert_thresholds_parse(text)
