"""DeerAPI's webhooks taken as hints (predictions.hints): the URL a create carries, the call that
brings a poll forward, the schedule that relies on calls while they come, and the pipeline in both
worlds the simulator offers (DeerAPI calls back, or never does)."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from deerapi.client import RemotePrediction
from ops import health
from ops.models import Heartbeat
from predictions import hints, pipeline
from predictions.models import Prediction, Status
from tests.world import SCHNELL, Worker, asgi_request, make_prediction, submit, submitted, wait_for, wait_until


@pytest.fixture(autouse=True)
def no_heartbeat_written(monkeypatch) -> None:
    """This process wrote no heartbeat yet (it writes one at most every HINTS_CHECK_EVERY s)."""
    monkeypatch.setattr(health, "_written", {})


@pytest.fixture
def public(settings) -> str:
    settings.PUBLIC_URL = "https://deerweb.example.com"
    settings.DEERAPI_WEBHOOKS = "auto"
    return settings.PUBLIC_URL


def running(owner, next_poll_in: float, status: str = Status.PROCESSING) -> Prediction:
    return make_prediction(
        owner,
        status=status,
        deerapi_id="sim-1",
        submitted_at=timezone.now(),
        next_poll_at=timezone.now() + timedelta(seconds=next_poll_in),
    )


# --- The URL a create carries


def test_a_create_carries_a_signed_hint_url_when_deerweb_has_an_https_public_address(public):
    url = hints.hint_url(42)
    assert url.startswith(f"{public}/deerapi/hints/42:")
    assert hints.hint_prediction_id(url.removeprefix(f"{public}/deerapi/hints/").rstrip("/")) == 42


@pytest.mark.parametrize(
    ("public_url", "choice", "expected"),
    [
        ("", "auto", False),  # DeerAPI could not reach DeerWeb
        ("http://deerweb.lan", "auto", False),  # a webhook DeerAPI may refuse
        ("http://deerweb.lan", "on", True),
        ("https://deerweb.example.com", "off", False),
    ],
)
def test_hints_are_asked_for_only_where_deerapi_can_call_back_and_they_are_not_turned_off(
    settings, public_url, choice, expected
):
    settings.PUBLIC_URL, settings.DEERAPI_WEBHOOKS = public_url, choice
    assert (hints.hint_url(7) is not None) is expected


def test_a_token_with_a_forged_signature_names_no_prediction(public):
    token = hints.hint_url(42).rstrip("/").rpartition("/")[2]
    assert hints.hint_prediction_id(token.replace("42:", "43:")) is None
    assert hints.hint_prediction_id("42") is None


# --- The call


def test_a_call_brings_a_waiting_poll_forward_and_notes_that_deerapi_calls_back(client, member, public):
    prediction = running(member, next_poll_in=8)
    response = client.post(hints.hint_url(prediction.pk).removeprefix(public), {"status": "succeeded"})
    assert response.status_code == 204
    prediction.refresh_from_db()
    assert prediction.next_poll_at <= timezone.now()
    assert prediction.status == Status.PROCESSING  # the body is not believed: the poll will tell
    assert health.heartbeat_at(hints.HEARTBEAT) is not None


def test_a_call_leaves_a_poll_under_way_and_an_ended_prediction_alone(client, member, public):
    under_way = running(member, next_poll_in=pipeline.BRING_FORWARD_WITHIN.total_seconds() + 5)
    ended = running(member, next_poll_in=5, status=Status.SUCCEEDED)
    for prediction in (under_way, ended):
        before = prediction.next_poll_at
        assert client.post(hints.hint_url(prediction.pk).removeprefix(public)).status_code == 204
        prediction.refresh_from_db()
        assert prediction.next_poll_at == before


def test_a_call_with_a_bad_signature_is_404_and_a_get_is_refused(client, member, public):
    prediction = running(member, next_poll_in=8)
    path = hints.hint_url(prediction.pk).removeprefix(public)
    assert client.post(path.replace(f"{prediction.pk}:", f"{prediction.pk}:x")).status_code == 404
    assert client.get(path).status_code == 405
    prediction.refresh_from_db()
    assert prediction.next_poll_at > timezone.now()


# --- The schedule


@pytest.fixture
def learned(member) -> Iterator[None]:
    """flux-schnell's recent runs took 6 and 9 s."""
    pipeline._recent_runs.clear()
    for seconds in (6.0, 9.0):
        make_prediction(
            member,
            model_id=SCHNELL,
            input={"prompt": "a deer"},
            status=Status.SUCCEEDED,
            metrics={"total_time": seconds},
        )
    yield
    pipeline._recent_runs.clear()


def test_while_deerapi_calls_back_the_first_poll_waits_for_the_slowest_recent_run(learned, member, public):
    now = timezone.now()
    prediction = Prediction(model_id=SCHNELL, input={"prompt": "a deer"}, created_at=now, submitted_at=now)
    remote = RemotePrediction(id="sim-1", status="processing", logs="Using seed: 5\n")
    now += timedelta(seconds=1)
    before = pipeline.poll_delay(prediction, remote, now)
    assert before == pytest.approx(6.0 - 1.0 + pipeline.PROGRESS_MARGIN)  # the fastest run's end

    health.heartbeat_record(hints.HEARTBEAT)
    hints.hints_forget()
    assert hints.hints_arriving()
    after = pipeline.poll_delay(prediction, remote, now)
    assert after == pytest.approx(9.0 - 1.0 + pipeline.poll_interval(prediction, now))  # the slowest's, and a margin


@pytest.mark.django_db
def test_calls_that_stopped_coming_are_not_relied_on(public):
    health.heartbeat_record(hints.HEARTBEAT)
    Heartbeat.objects.filter(name=hints.HEARTBEAT).update(at=timezone.now() - hints.HINTS_FRESH - timedelta(seconds=1))
    assert not hints.hints_arriving()


# --- The pipeline, in both worlds


@pytest.fixture
def calling_back(settings, live_server, simulator) -> str:
    """DeerWeb in this process at the live server's address, asking DeerAPI to call back."""
    settings.PUBLIC_URL = live_server.url
    settings.DEERAPI_WEBHOOKS = "on"
    return live_server.url


@pytest.mark.django_db(transaction=True)
def test_a_create_asks_the_simulator_to_call_back_and_its_call_reaches_deerweb(calling_back, simulator, member):
    simulator.webhooks = "sent"
    prediction = submitted(member)
    pipeline.prediction_submit(prediction.pk)
    prediction.refresh_from_db()
    assert simulator.predictions[prediction.deerapi_id].webhook == hints.hint_url(prediction.pk)
    wait_until(lambda: simulator.stats.webhooks_sent == 1, 10, what="DeerAPI's call")
    assert health.heartbeat_at(hints.HEARTBEAT) is not None


@pytest.fixture
def hinting_worker(worker_session: Worker, simulator, calling_back, transactional_db) -> Iterator[Worker]:
    """The worker asking DeerAPI to call back at the live server. The plain worker comes back
    when a later test asks for `worker`."""
    plain = worker_session.env
    worker_session.stop()
    worker_session.env = {**plain, "DEERWEB_PUBLIC_URL": calling_back, "DEERWEB_DEERAPI_WEBHOOKS": "on"}
    try:
        worker_session.start()
        yield worker_session
    finally:
        worker_session.stop()
        worker_session.env = plain


@pytest.mark.services
@pytest.mark.parametrize("webhooks", ["sent", "ignored"])
def test_predictions_succeed_whether_deerapi_calls_back_or_not(hinting_worker, simulator, member, webhooks):
    simulator.webhooks = webhooks
    predictions = [wait_for(submit(member, prompt=f"a deer {n}"), Status.SUCCEEDED) for n in range(3)]
    assert all(p.outputs.count() == 1 for p in predictions)
    assert simulator.stats.creates == 3
    called = webhooks == "sent"
    assert simulator.stats.webhooks_sent == (3 if called else 0)
    assert (health.heartbeat_at(hints.HEARTBEAT) is not None) is called


def test_a_call_takes_the_apis_short_chain_without_session_or_csrf(member, public, transactional_db, web_loop):
    prediction = running(member, next_poll_in=8)
    answer = web_loop.run(asgi_request(hints.hint_url(prediction.pk).removeprefix(public), method="POST"))
    assert answer.status == 204
    assert b"set-cookie" not in answer.headers and b"vary" not in answer.headers
    prediction.refresh_from_db()
    assert prediction.next_poll_at <= timezone.now()
