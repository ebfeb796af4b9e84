"""/healthz: database, broker, worker heartbeat and last poll, as JSON for load balancers."""

from datetime import timedelta

import pytest
from celery import current_app
from django.conf import settings
from django.utils import timezone

from billing.models import TeamSettings
from deerapi.simulator.server import SLOW_MARK
from ops import health
from ops.models import Heartbeat, TaskFailure
from predictions import pipeline, storing, tasks
from predictions.models import Prediction, Status
from tests.world import make_prediction, submit, submitted, wait_for, wait_until

pytestmark = pytest.mark.django_db


def beat(name: str, seconds_ago: float) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now() - timedelta(seconds=seconds_ago)})


def broker_at(monkeypatch, url: str, **options) -> None:
    """Have the health check connect to `url` instead of the configured broker, with the URL's own
    transport (not the one configured: the embedded configuration names DeerWeb's filesystem transport)."""
    connect = current_app.connection_for_write
    transport = url.split("://", 1)[0]
    monkeypatch.setattr(
        current_app, "connection_for_write", lambda **kwargs: connect(url, transport=transport, **options, **kwargs)
    )


@pytest.fixture(autouse=True)
def fresh_throttle(monkeypatch):
    monkeypatch.setattr(health, "_written", {})


def test_it_is_ok_when_the_database_and_broker_answer_and_the_sweep_is_recent(client):
    beat(health.SWEEP, 2)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["broker"] == {"ok": True}
    assert body["checks"]["worker"]["ok"] is True
    assert 1 <= body["checks"]["worker"]["age_seconds"] < 10


def test_it_fails_when_no_sweep_ever_ran(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["failing"] == ["worker"]
    assert body["checks"]["worker"]["last_sweep"] is None


def test_a_web_process_started_moments_ago_warns_until_the_first_sweep_then_is_ok(client, monkeypatch, settings):
    settings.SWEEP_INTERVAL = 5.0
    monkeypatch.setattr(health, "_started", timezone.now() - timedelta(seconds=10))
    beat(health.SWEEP, 3600)  # a sweep from before this start: the worker may be starting too

    body = client.get("/healthz").json()
    assert (body["status"], body["warnings"]) == ("ok", ["worker"])
    assert body["checks"]["worker"]["starting"] is True

    beat(health.SWEEP, 1)
    body = client.get("/healthz").json()
    assert (body["status"], body["warnings"]) == ("ok", [])


def test_a_web_process_started_longer_ago_than_the_start_period_fails_without_a_sweep(client, monkeypatch, settings):
    settings.SWEEP_INTERVAL = 5.0
    monkeypatch.setattr(health, "_started", timezone.now() - timedelta(seconds=46))

    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]


def test_a_sweep_gone_stale_since_this_process_started_fails_within_the_start_period(client, monkeypatch, settings):
    settings.SWEEP_INTERVAL = 5.0
    monkeypatch.setattr(health, "_started", timezone.now() - timedelta(seconds=40))
    beat(health.SWEEP, 39)  # swept after this start, so the worker ran: no grace once it is late
    assert client.get("/healthz").status_code == 200
    settings.SWEEP_INTERVAL = 1.0  # the same sweep is now past three intervals and thirty seconds

    assert client.get("/healthz").status_code == 503


def test_it_fails_when_the_sweep_is_older_than_three_intervals_and_thirty_seconds(client, settings):
    settings.SWEEP_INTERVAL = 5.0
    beat(health.SWEEP, 44)
    assert client.get("/healthz").status_code == 200
    beat(health.SWEEP, 46)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["max_age_seconds"] == 45.0


def test_it_fails_naming_the_broker_when_the_broker_does_not_answer(client, monkeypatch):
    # Nothing listens on port 1; the password must not leak.
    broker_at(monkeypatch, "redis://:broker-password-1234@127.0.0.1:1/0")
    beat(health.SWEEP, 1)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"]["ok"] is False
    assert "broker-password-1234" not in response.content.decode()
    assert "127.0.0.1:1" not in response.content.decode()


def test_it_works_with_the_filesystem_broker(client, monkeypatch, tmp_path):
    folders = {name: str(tmp_path) for name in ("data_folder_in", "data_folder_out", "processed_folder")}
    broker_at(monkeypatch, "filesystem://", transport_options=folders)
    beat(health.SWEEP, 1)
    response = client.get("/healthz")
    assert response.json()["checks"]["broker"] == {"ok": True}
    assert response.status_code == 200


def test_it_reports_the_last_successful_poll_without_failing_on_it(client):
    beat(health.SWEEP, 1)
    beat(health.POLL, 600)
    response = client.get("/healthz")
    assert response.status_code == 200
    last_poll = response.json()["checks"]["last_poll"]
    assert last_poll["at"] is not None
    assert 599 <= last_poll["age_seconds"] <= 610


def test_it_needs_no_login_and_shows_no_secret(client):
    beat(health.SWEEP, 1)
    text = client.get("/healthz").content.decode()
    for secret in (settings.DEERAPI_KEY, settings.SECRET_KEY, settings.CELERY_BROKER_URL, settings.DATABASE_URL):
        assert secret not in text


def test_it_answers_head_and_refuses_post(client):
    beat(health.SWEEP, 1)
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_it_is_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    beat(health.SWEEP, 1)
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_it_costs_five_queries_however_many_predictions_and_failures_there_are(
    client, member, django_assert_max_num_queries
):
    beat(health.SWEEP, 1)
    for _ in range(3):
        make_prediction(member)
        TaskFailure.objects.create(task="predictions.tasks.poll", error="RuntimeError")
    with django_assert_max_num_queries(5):
        assert client.get("/healthz").status_code == 200


# --- Stuck predictions, failing tasks, DeerAPI ------------------------------------------


def test_it_fails_when_a_prediction_sits_in_a_working_state_past_its_lease(client, member):
    beat(health.SWEEP, 1)
    stuck = make_prediction(
        member, status=Status.STORING, next_poll_at=timezone.now() - timedelta(seconds=health.overdue_after() + 5)
    )

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["predictions"]
    assert body["checks"]["predictions"]["past_lease"] == 1
    assert body["checks"]["predictions"]["oldest_due_seconds"] > health.overdue_after()
    Prediction.objects.filter(pk=stuck.pk).update(status=Status.FAILED)
    assert client.get("/healthz").status_code == 200


def test_a_prediction_due_a_moment_ago_is_not_past_its_lease(client, member):
    beat(health.SWEEP, 1)
    make_prediction(member, status=Status.PROCESSING, next_poll_at=timezone.now() - timedelta(seconds=5))
    assert client.get("/healthz").status_code == 200


def fail(task: str = "predictions.tasks.poll", *, prediction_id=None, seconds_ago: float = 0) -> None:
    TaskFailure.objects.create(
        task=task,
        error="DatabaseError",
        prediction_id=prediction_id,
        at=timezone.now() - timedelta(seconds=seconds_ago),
    )


def test_it_fails_when_background_tasks_keep_raising(client, settings):
    settings.HEALTH_FAILURE_LIMIT = 3
    beat(health.SWEEP, 1)
    fail()
    fail()
    assert client.get("/healthz").status_code == 200

    fail()
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["tasks"]
    assert response.json()["checks"]["tasks"]["failures"] == 3


def test_failures_older_than_the_window_do_not_count(client, settings):
    settings.HEALTH_FAILURE_LIMIT = 2
    beat(health.SWEEP, 1)
    for _ in range(5):
        fail(seconds_ago=settings.HEALTH_FAILURE_WINDOW + 10)
    assert client.get("/healthz").status_code == 200


def test_one_prediction_whose_tasks_failed_twice_and_is_still_being_worked_on_fails_it(client, member):
    beat(health.SWEEP, 1)
    stuck = make_prediction(member, status=Status.STORING, next_poll_at=timezone.now() + timedelta(seconds=60))
    fail("predictions.tasks.store", prediction_id=stuck.pk)
    assert client.get("/healthz").status_code == 200

    fail("predictions.tasks.store", prediction_id=stuck.pk)
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["tasks"]["stuck_predictions"] == [stuck.pk]


def test_a_task_that_raises_is_recorded_with_its_prediction(member, monkeypatch, client):
    beat(health.SWEEP, 1)
    prediction = make_prediction(member, status=Status.STORING, next_poll_at=timezone.now())

    def broken(prediction, *, stored):
        raise RuntimeError("the database refused the update")

    monkeypatch.setattr(storing, "store_claimed", broken)
    for _ in range(2):
        Prediction.objects.filter(pk=prediction.pk).update(next_poll_at=timezone.now())
        tasks.store.apply(args=[prediction.pk])

    failures = list(TaskFailure.objects.values_list("task", "error", "prediction_id"))
    assert failures == [("predictions.tasks.store", "RuntimeError", prediction.pk)] * 2
    assert client.get("/healthz").json()["checks"]["tasks"]["stuck_predictions"] == [prediction.pk]


def test_the_sweep_forgets_failures_older_than_a_day():
    fail(seconds_ago=2 * 86400)
    fail(seconds_ago=60)
    tasks.sweep()
    assert TaskFailure.objects.count() == 1


@pytest.mark.parametrize(
    "flag", ["deerapi_key_rejected_since", "deerapi_balance_empty_since", "deerapi_check_failed_at"]
)
def test_a_deerapi_outage_is_a_warning_not_a_failure(client, flag):
    beat(health.SWEEP, 1)
    TeamSettings.objects.create(pk=1, **{flag: timezone.now()})

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["warnings"] == ["deerapi"]
    assert body["checks"]["deerapi"]["warning"] is True


def test_the_liveness_check_answers_without_asking_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_the_admin_index_shows_what_is_failing(client, admin_user, member):
    beat(health.SWEEP, 1)
    stuck = make_prediction(member, status=Status.STORING, next_poll_at=timezone.now() + timedelta(seconds=60))
    fail("predictions.tasks.store", prediction_id=stuck.pk)
    fail("predictions.tasks.store", prediction_id=stuck.pk)
    client.force_login(admin_user)

    page = client.get("/admin/").content.decode()

    assert 'data-health="failing"' in page
    assert 'data-health-check="tasks"' in page
    assert f"/admin/predictions/prediction/{stuck.pk}/change/" in page


def test_the_admin_index_shows_no_health_banner_when_all_is_well(client, admin_user):
    beat(health.SWEEP, 1)
    client.force_login(admin_user)
    assert "data-health=" not in client.get("/admin/").content.decode()


# --- The heartbeats ---------------------------------------------------------------


def test_the_sweep_task_records_its_heartbeat():
    tasks.sweep()
    first = Heartbeat.objects.get(name=health.SWEEP).at
    assert timezone.now() - first < timedelta(seconds=5)
    tasks.sweep()
    assert Heartbeat.objects.get(name=health.SWEEP).at > first
    assert Heartbeat.objects.filter(name=health.SWEEP).count() == 1


def test_a_successful_poll_records_the_poll_heartbeat_at_most_every_five_seconds(simulator, member):
    prediction = submitted(member)
    assert prediction.status in (Status.STARTING, Status.PROCESSING)
    Prediction.objects.filter(pk=prediction.pk).update(next_poll_at=timezone.now())
    pipeline.prediction_refresh(prediction.pk)
    first = Heartbeat.objects.get(name=health.POLL).at
    Prediction.objects.filter(pk=prediction.pk).update(next_poll_at=timezone.now())
    pipeline.prediction_refresh(prediction.pk)
    assert Heartbeat.objects.get(name=health.POLL).at == first
    assert health.heartbeat_record(health.POLL, every=health.POLL_HEARTBEAT_EVERY) is False


def test_a_failed_poll_records_no_heartbeat(simulator, member):
    prediction = submitted(member)
    Prediction.objects.filter(pk=prediction.pk).update(next_poll_at=timezone.now())
    simulator.inject("get", status=503)
    pipeline.prediction_refresh(prediction.pk)
    assert Prediction.objects.get(pk=prediction.pk).poll_count == 1
    assert not Heartbeat.objects.filter(name=health.POLL).exists()


# --- With the real worker ------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_it_turns_ok_with_a_running_worker_and_shows_its_last_poll(worker, client, member):
    wait_until(Heartbeat.objects.filter(name=health.SWEEP).exists, timeout=15, what="the sweep's heartbeat")
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["worker"]["age_seconds"] < 5

    # A slow run (about 10 s at the simulator): its polls outlast the worker's heartbeat throttle
    # (POLL_HEARTBEAT_EVERY), which an earlier test's polls may have started before the database
    # was emptied.
    prediction = submit(member, prompt=f"{SLOW_MARK} a slow deer")
    wait_for(prediction, Status.SUCCEEDED, timeout=60)
    last_poll = client.get("/healthz").json()["checks"]["last_poll"]
    assert last_poll["at"] is not None
    assert last_poll["age_seconds"] < 30
