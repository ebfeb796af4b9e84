"""50 simultaneous submissions, each in its own thread with its own PostgreSQL connection,
against a budget that allows 10: exactly 10 predictions, 40 clear refusals, not a cent over."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, connections, transaction

from billing import services as billing
from billing.models import LedgerEntry, MemberQuota, Period, TeamSettings
from predictions import services
from predictions.models import Prediction, User
from tests.world import submit

# Row locks are what these tests are about; SQLite takes one lock for the whole database.
pytestmark = [pytest.mark.services, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]
THREADS = 50


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """The submit tasks that would be sent; recorded instead, so no worker acts meanwhile."""
    sent: list[int] = []
    lock = threading.Lock()

    def record(task: str, prediction_id: int, countdown: float = 0.0) -> None:
        with lock:
            sent.append(prediction_id)

    monkeypatch.setattr(services, "enqueue", record)
    return sent


def submit_all_at_once(owners: list[User]) -> list[tuple[str, str | int]]:
    """Every owner submits at the same moment, one thread (and one DB connection) each."""
    start = threading.Barrier(len(owners))

    def attempt(index: int) -> tuple[str, str | int]:
        try:
            start.wait(timeout=30)
            try:
                prediction = submit(owners[index], prompt=f"deer number {index}")
            except billing.QuotaExceeded as exc:
                return ("refused", exc.message)
            return ("created", prediction.pk)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(owners)) as pool:
        return list(pool.map(attempt, range(len(owners))))


@pytest.mark.parametrize("own_quota", [True, False], ids=["own-quota", "team-default-copied-on-first-use"])
def test_fifty_simultaneous_submissions_against_a_budget_for_ten_create_exactly_ten(enqueued, member, own_quota):
    if own_quota:
        MemberQuota.objects.create(user=member, budget=Decimal("0.03"), period=Period.MONTH)
    else:
        TeamSettings.objects.create(pk=1, default_budget=Decimal("0.03"), default_period=Period.MONTH)

    results = submit_all_at_once([member] * THREADS)

    created = [value for outcome, value in results if outcome == "created"]
    refused = [value for outcome, value in results if outcome == "refused"]
    assert (len(created), len(refused)) == (10, 40)
    assert Prediction.objects.filter(owner=member).count() == 10
    saved = Prediction.objects.filter(owner=member).values_list("pk", flat=True)
    assert sorted(saved) == sorted(created)
    assert enqueued == [], "no message: the workers' pollers claim queued rows"
    spent = sum(LedgerEntry.objects.filter(user=member).values_list("amount", flat=True), Decimal(0))
    assert spent == Decimal("0.03"), "not a cent over, not a cent lost"
    assert MemberQuota.objects.filter(user=member).count() == 1
    for message in refused:
        assert message.startswith(
            "Over your budget: this prediction costs about $0.003, and $0.00 of your $0.03 "
            "monthly budget is left. It starts again on "
        )


def test_the_team_budget_holds_when_many_members_submit_at_once(enqueued):
    members = [User.objects.create_user(f"member{i}", password="x") for i in range(10)]
    TeamSettings.objects.create(pk=1, team_monthly_budget=Decimal("0.03"))

    results = submit_all_at_once(members * (THREADS // len(members)))

    assert [outcome for outcome, _value in results].count("created") == 10
    assert Prediction.objects.count() == 10
    assert sum(LedgerEntry.objects.values_list("amount", flat=True), Decimal(0)) == Decimal("0.03")
    assert all("Over the team's budget" in value for outcome, value in results if outcome == "refused")


def submit_while_the_team_row_is_locked(owner: User) -> str:
    """Submit while another transaction holds the team settings row; 'created' or 'waited'.

    The submission gives up after a second instead of waiting for the lock forever.
    """
    locked, release = threading.Event(), threading.Event()

    def hold_the_team_row() -> None:
        try:
            with transaction.atomic():
                TeamSettings.objects.select_for_update().get(pk=1)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_team_row)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '1s'")
                submit(owner, prompt="a deer")
        except OperationalError:
            return "waited"
        return "created"
    finally:
        release.set()
        holder.join()


def test_without_a_team_budget_a_submission_does_not_wait_for_the_team_row(enqueued, member):
    TeamSettings.objects.create(pk=1, team_monthly_budget=None)

    assert submit_while_the_team_row_is_locked(member) == "created"
    assert Prediction.objects.filter(owner=member).count() == 1


def test_with_a_team_budget_a_submission_waits_for_the_team_row(enqueued, member):
    TeamSettings.objects.create(pk=1, team_monthly_budget=Decimal("10"))

    assert submit_while_the_team_row_is_locked(member) == "waited"
    assert Prediction.objects.filter(owner=member).count() == 0


def test_simultaneous_submissions_reaching_alert_thresholds_record_and_tell_each_once(enqueued, member, monkeypatch):
    from alerts import tasks
    from billing.models import BudgetAlert
    from notifications.models import Notification

    delivered: list[int] = []
    monkeypatch.setattr(tasks.budget_alert_email, "delay", delivered.append)
    monkeypatch.setattr(tasks.budget_alert_slack, "delay", lambda alert_id: None)
    MemberQuota.objects.create(user=member, budget=Decimal("0.03"), period=Period.MONTH)

    submit_all_at_once([member] * THREADS)

    assert sorted(BudgetAlert.objects.values_list("threshold", flat=True)) == [80, 100]
    assert Notification.objects.filter(recipient=member).count() == 2, "one for 80 %, one for 100 %"
    assert sorted(delivered) == sorted(BudgetAlert.objects.values_list("pk", flat=True))
