"""DeerAPI's own balance: reading it (client, simulator, the beat task's snapshot), and what
happens when DeerAPI says it is exhausted or rejects the key (failed, refunded, admin banner
until a later create succeeds)."""

from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from billing import deerapi_account
from billing.models import LedgerKind, TeamSettings
from deerapi.client import AuthError, DeerAPIClient
from predictions import tasks
from predictions.models import Prediction, Status
from tests.world import PRO, ledger, load_settings, submit, wait_for

SHOW_QUERY_URL = "import deerweb.settings as s; print(s.DEERAPI_QUERY_URL)"
INSUFFICIENT = {
    "error": {
        "message": "用户额度不足 (insufficient user quota)",
        "type": "new_api_error",
        "code": "insufficient_user_quota",
    }
}


@pytest.fixture
def query_host(simulator, settings):
    settings.DEERAPI_QUERY_URL = simulator.url
    return simulator


# --- Reading the balance -----------------------------------------------------------------


def test_the_client_reads_deerapis_balance_with_the_key_as_a_query_parameter(query_host):
    account = DeerAPIClient().get_balance()
    assert account.username == "sandbox"
    assert (account.balance, account.used) == (Decimal("100.0"), Decimal("0.0"))
    assert account.keys == [{"name": "deerweb", "remain_quota": "100.0", "used_quota": "0.0"}]


def test_a_wrong_key_is_rejected_by_the_balance_endpoint(query_host):
    with pytest.raises(AuthError):
        DeerAPIClient(key="sk-wrong").get_balance()


def test_the_beat_schedule_reads_the_balance_every_five_minutes():
    entry = django_settings.CELERY_BEAT_SCHEDULE["refresh-deerapi-balance"]
    assert entry["task"] == tasks.deerapi_balance_refresh.name
    assert entry["schedule"] == 300.0


@pytest.mark.django_db
def test_the_task_keeps_a_snapshot_and_compares_it_with_what_deerweb_recorded(query_host, member):
    tasks.deerapi_balance_refresh()  # the first reading is the baseline
    team = TeamSettings.objects.get(pk=1)
    assert (team.deerapi_balance, team.deerapi_used, team.deerapi_username) == (Decimal("100"), 0, "sandbox")
    assert team.deerapi_baseline_at == team.deerapi_checked_at

    prediction = submit(member, model_id=PRO)
    Prediction.objects.filter(pk=prediction.pk).update(actual_cost=Decimal("0.04"), status=Status.SUCCEEDED)
    query_host.inject(
        "quota",
        status=200,
        body={
            "username": "sandbox",
            "total_quota": 99.9,
            "total_used_quota": 0.1,
            "request_count": 3,
            "keys": [{"name": "deerweb", "remain_quota": -1, "used_quota": 0.1}],
        },
    )
    assert deerapi_account.deerapi_balance_refresh()
    report = deerapi_account.balance_report(TeamSettings.objects.get(pk=1))
    assert (report.balance, report.used_since, report.recorded_since) == (
        Decimal("99.9"),
        Decimal("0.1"),
        Decimal("0.04"),
    )
    assert report.difference == Decimal("0.06")
    assert report.request_count == 3
    assert report.keys == [{"name": "deerweb", "remain_quota": "-1", "used_quota": "0.1"}]


@pytest.mark.django_db
def test_a_failed_reading_keeps_the_last_snapshot_and_says_why_without_the_key(query_host, settings):
    assert deerapi_account.deerapi_balance_refresh()
    query_host.inject("quota", status=502)
    assert not deerapi_account.deerapi_balance_refresh()
    team = TeamSettings.objects.get(pk=1)
    assert team.deerapi_balance == Decimal("100")
    assert "Bad Gateway" in team.deerapi_check_error
    assert team.deerapi_check_failed_at is not None
    settings.DEERAPI_QUERY_URL = "http://127.0.0.1:9"
    assert not deerapi_account.deerapi_balance_refresh()
    team.refresh_from_db()
    assert "did not answer" in team.deerapi_check_error
    assert settings.DEERAPI_KEY not in team.deerapi_check_error


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_simulated_account_is_charged_for_the_images_of_succeeded_predictions(worker, query_host, member):
    wait_for(submit(member, num_outputs=2), Status.SUCCEEDED)
    wait_for(submit(member, model_id=PRO), Status.SUCCEEDED)
    account = DeerAPIClient().get_balance()
    assert account.used == Decimal("0.046")
    assert account.balance == Decimal("99.954")


# --- DeerAPI refusing the team ------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("status", "body"), [(403, INSUFFICIENT), (402, None)], ids=["403-insufficient", "402"])
def test_an_exhausted_deerapi_balance_fails_refunds_and_warns_admins_until_a_create_succeeds(
    worker, simulator, client, member, admin_user, status, body
):
    simulator.inject("create", status=status, body=body)
    prediction = wait_for(submit(member, num_outputs=2), Status.FAILED)
    assert prediction.error.startswith("The team's DeerAPI balance is empty, so DeerAPI refused this prediction")
    assert ledger(prediction) == [
        (LedgerKind.RESERVE, Decimal("0.006")),
        (LedgerKind.REFUND, Decimal("-0.006")),
    ]
    assert TeamSettings.objects.get(pk=1).deerapi_balance_empty_since is not None

    client.force_login(admin_user)
    assert 'data-deerapi-alert="balance"' in client.get(reverse("predictions:list")).content.decode()
    client.force_login(member)
    assert "data-deerapi-alert" not in client.get(reverse("predictions:list")).content.decode()

    wait_for(submit(member), Status.SUCCEEDED)
    assert TeamSettings.objects.get(pk=1).deerapi_balance_empty_since is None
    client.force_login(admin_user)
    assert "data-deerapi-alert" not in client.get(reverse("predictions:list")).content.decode()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_rejected_key_fails_the_prediction_and_warns_admins_until_a_create_succeeds(
    worker, simulator, client, member, admin_user
):
    simulator.inject("create", status=401, body={"error": {"message": "无效的令牌", "code": "invalid_api_key"}})
    prediction = wait_for(submit(member), Status.FAILED)
    assert prediction.error.startswith("DeerAPI key rejected")
    assert prediction.ledger.filter(kind=LedgerKind.REFUND).exists()
    client.force_login(admin_user)
    assert 'data-deerapi-alert="key"' in client.get(reverse("predictions:list")).content.decode()

    wait_for(submit(member), Status.SUCCEEDED)
    assert TeamSettings.objects.get(pk=1).deerapi_key_rejected_since is None
    assert "data-deerapi-alert" not in client.get(reverse("predictions:list")).content.decode()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8765"),
        ({"DEERAPI_BASE_URL": "http://simulator:8765"}, "http://simulator:8765"),
        ({"DEERAPI_KEY": "sk-real"}, "https://query.deerapi.com"),
        ({"DEERAPI_KEY": "sk-real", "DEERAPI_QUERY_URL": "https://query.example/"}, "https://query.example"),
    ],
    ids=["sandbox", "sandbox-in-compose", "with-a-key", "configured"],
)
def test_the_balance_host_is_configurable_and_the_simulator_in_sandbox_mode(env, expected):
    result = load_settings(SHOW_QUERY_URL, DJANGO_SECRET_KEY="k" * 50, **env)
    assert (result.returncode, result.stdout.strip()) == (0, expected), result.stderr


def test_a_bad_balance_host_stops_start_up_naming_the_variable():
    result = load_settings(SHOW_QUERY_URL, DJANGO_SECRET_KEY="k" * 50, DEERAPI_QUERY_URL="ftp://query.deerapi.com")
    assert result.returncode != 0
    assert "DEERAPI_QUERY_URL" in result.stderr
