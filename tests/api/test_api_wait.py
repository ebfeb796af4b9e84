"""`Prefer: wait` with a real worker: the answer comes when the prediction ends, or as `starting`
when the wait runs out first (so replicate-python's run() goes on polling)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.world import PROMPT, SCHNELL

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
