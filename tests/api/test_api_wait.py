"""`Prefer: wait` with a real worker: the answer comes when the prediction ends, or as `starting`
when the wait runs out first (so replicate-python's run() goes on polling)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from ops import notifier
from predictions.models import Status
from tests.world import PROMPT, SCHNELL, asgi_request, ended, make_prediction, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def http(worker, live_server, member_token):
    with httpx.Client(
        base_url=f"{live_server.url}/replicate/v1", headers={"Authorization": f"Bearer {member_token}"}, timeout=90
    ) as client:
        yield client


def test_a_create_that_waits_answers_succeeded_with_the_stored_outputs_as_soon_as_they_are(http):
    started = time.monotonic()
    response = http.post(
        f"/models/{SCHNELL}/predictions", json={"input": {"prompt": PROMPT}}, headers={"Prefer": "wait=30"}
    )
    took = time.monotonic() - started
    body = response.json()
    assert response.status_code == 201 and body["status"] == "succeeded" and len(body["output"]) == 1
    assert took < 15, f"answered after {took:.1f} s, long after the prediction ended"


def test_a_wait_that_runs_out_first_answers_starting_whatever_the_prediction_is_doing(http):
    started = time.monotonic()
    body = http.post(
        f"/models/{SCHNELL}/predictions", json={"input": {"prompt": f"[[slow]] {PROMPT}"}}, headers={"Prefer": "wait=2"}
    ).json()
    assert 1.5 <= time.monotonic() - started < 10
    assert body["status"] == "starting" and body["output"] is None


def test_a_get_that_waits_answers_when_the_prediction_ends(http):
    created = http.post(f"/models/{SCHNELL}/predictions", json={"input": {"prompt": PROMPT}}).json()
    assert created["status"] == "starting"
    body = http.get(f"/predictions/{created['id']}", headers={"Prefer": "wait=30"}).json()
    assert body["status"] == "succeeded" and body["output"]


def request_threads() -> int:
    """Threads asgiref runs requests' sync code in (a ThreadPoolExecutor per request), not the
    event loop's shared executor ("asyncio_…") or other tests' threads."""
    return sum(1 for thread in threading.enumerate() if thread.name.startswith("ThreadPoolExecutor-"))


def test_requests_waiting_under_asgi_hold_no_thread_and_each_answers_when_its_prediction_ends(
    member, member_token, web_loop
):
    # Not due for a poll for an hour: a worker left running by another test leaves them alone.
    later = timezone.now() + timedelta(hours=1)
    running = [make_prediction(member, status=Status.PROCESSING, next_poll_at=later) for _ in range(20)]
    headers = {"authorization": f"Bearer {member_token}", "prefer": "wait=60"}
    assert web_loop.run(notifier.subscription_ready(10))
    web_loop.run(
        asgi_request(f"/replicate/v1/predictions/{running[0].pk}", headers={"authorization": headers["authorization"]})
    )
    threads_before = request_threads()

    answers = [web_loop.start(asgi_request(f"/replicate/v1/predictions/{p.pk}", headers=headers)) for p in running]

    async def waits() -> int:
        return notifier.watching()

    wait_until(lambda: web_loop.run(waits()) == len(running), what="every request waiting")
    threads_waiting = request_threads()
    for prediction in running:
        ended(prediction, status=Status.FAILED)
        notifier.notify(prediction.pk)
    bodies = [json.loads(answer.result(30).body) for answer in answers]

    assert threads_waiting - threads_before < 5, f"{threads_waiting - threads_before} threads for 20 waiting requests"
    assert [body["status"] for body in bodies] == ["failed"] * len(running)
    assert [body["id"] for body in bodies] == [str(p.pk) for p in running]
