"""The budget alerts' settings page (admins) and a member's own thresholds on their limits page."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from alerts import services
from alerts.models import AlertSettings
from billing.models import MemberQuota, Period, TeamSettings


def test_only_admins_open_the_alert_settings(member_client, admin_client):
    assert member_client.get(reverse("alerts:settings")).status_code == 403
    assert admin_client.get(reverse("alerts:settings")).status_code == 200


def test_an_admin_changes_the_thresholds(admin_client):
    response = admin_client.post(
        reverse("alerts:settings"), {"alert_thresholds": "90, 50", "team_alert_thresholds": "100"}
    )
    assert response.status_code == 302
    team = TeamSettings.objects.get()
    assert (team.alert_thresholds, team.team_alert_thresholds) == ([50, 90], [100])


def test_wrong_thresholds_get_a_message_not_an_error_page(admin_client):
    response = admin_client.post(
        reverse("alerts:settings"), {"alert_thresholds": "80, 80", "team_alert_thresholds": "5000"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "80% is there twice" in html
    assert "from 1% to 1000%" in html


def test_the_slack_url_is_stored_encrypted_and_never_shown(admin_client, webhook_receiver, settings):
    settings.SLACK_WEBHOOK_URL = ""
    url = webhook_receiver.url("/services/T1/B1/very-secret")
    response = admin_client.post(
        reverse("alerts:settings"),
        {"alert_thresholds": "80, 100", "team_alert_thresholds": "80, 100", "slack_url": url},
    )
    assert response.status_code == 302
    assert "very-secret" not in AlertSettings.objects.get().slack_url_encrypted
    html = admin_client.get(reverse("alerts:settings")).content.decode()
    assert "A Slack URL is set." in html
    assert "very-secret" not in html
    assert services.slack_url() == url


def test_an_admin_removes_the_slack_url(admin_client, admin_user, webhook_receiver, settings):
    settings.SLACK_WEBHOOK_URL = ""
    services.slack_url_set(webhook_receiver.url(), by=admin_user)
    admin_client.post(reverse("alerts:settings"), {"alert_thresholds": "80", "slack_clear": "on"})
    assert services.slack_url() == ""
    assert "No Slack URL is set." in admin_client.get(reverse("alerts:settings")).content.decode()


def test_a_slack_url_to_a_private_address_is_refused_with_a_message(admin_client, settings):
    settings.SLACK_WEBHOOK_URL = ""
    response = admin_client.post(
        reverse("alerts:settings"), {"alert_thresholds": "80", "slack_url": "https://10.1.2.3/hook"}
    )
    assert response.status_code == 400
    assert "Slack URL:" in response.content.decode()
    assert not AlertSettings.objects.filter(slack_url_encrypted__gt="").exists()


def test_a_slack_url_from_the_environment_cannot_be_changed_on_the_page(admin_client, settings):
    settings.SLACK_WEBHOOK_URL = "https://hooks.example.com/services/env-secret"
    html = admin_client.get(reverse("alerts:settings")).content.decode()
    assert "Set by the server's environment" in html
    assert "env-secret" not in html
    assert 'name="slack_url"' not in html


def test_an_admin_gives_a_member_thresholds_of_their_own(admin_client, member):
    MemberQuota.objects.create(user=member, budget=Decimal("5"), period=Period.MONTH)
    url = reverse("usage:member_quota", args=[member.pk])
    response = admin_client.post(url, {"budget": "5", "period": "month", "alert_thresholds": "100, 50"})
    assert response.status_code == 302
    assert MemberQuota.objects.get(user=member).alert_thresholds == [50, 100]
    assert 'value="50, 100"' in admin_client.get(url).content.decode()

    response = admin_client.post(url, {"budget": "5", "period": "month", "alert_thresholds": "0"})
    assert response.status_code == 400
    assert "from 1% to 1000%" in response.content.decode()

    admin_client.post(url, {"budget": "5", "period": "month", "alert_thresholds": ""})
    assert MemberQuota.objects.get(user=member).alert_thresholds is None, "the team's apply again"


def test_the_settings_page_runs_a_few_queries(admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("alerts:settings")).status_code == 200


def test_the_team_settings_admin_shows_the_thresholds_and_where_to_change_them(admin_client):
    TeamSettings.load()
    html = admin_client.get(reverse("admin:billing_teamsettings_change", args=[1])).content.decode()
    assert "Changed on the budget alerts page (/alerts/settings/)" in html
    assert 'name="alert_thresholds"' not in html, "read-only there: the alerts page checks them"
