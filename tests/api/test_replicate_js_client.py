"""The official JavaScript client (npm `replicate`, unmodified, under Node) against a live DeerWeb
with a real worker: run, create, wait, list, and an invalid input (tests/api/js/conformance.mjs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from standardwebhooks import Webhook

from predictions.models import Prediction, Via
from tests.world import ROOT, SCHNELL
from webhooks.services import webhook_secret_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
SCRIPT = ROOT / "tests" / "api" / "js" / "conformance.mjs"


def conformance(live_server, token: str, **env: str) -> dict:
    node = shutil.which("node")
    assert node, "Node.js is needed for the JavaScript client's test"
    assert (SCRIPT.parent / "node_modules" / "replicate").is_dir(), "run `make install` (npm ci in tests/api/js)"
    result = subprocess.run(
        [node, str(SCRIPT)],
        env={**os.environ, "DEERWEB_URL": live_server.url, "DEERWEB_TOKEN": token, "MODEL": SCHNELL, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_javascript_client_runs_creates_waits_lists_and_reads_problem_details(
    worker, live_server, member, member_token, webhook_receiver
):
    seen = conformance(live_server, member_token, WEBHOOK_URL=webhook_receiver.url())
    assert [(o["status"], o["bytes"] > 0) for o in seen["run"]] == [(200, True)]
    assert seen["created"]["status"] == "starting"
    assert seen["waited"] == {"id": seen["created"]["id"], "status": "succeeded", "outputs": 1}
    assert seen["listed"][0] == seen["created"]["id"] and len(seen["listed"]) == 2
    assert seen["invalid"]["status"] == 422
    assert set(Prediction.objects.values_list("via", flat=True)) == {Via.API}
    # The create's webhook: `start` and `completed`, signed with the member's secret.
    received = webhook_receiver.wait_for(2)
    secret = webhook_secret_for(member)
    bodies = [Webhook(secret).verify(hook.body, hook.headers) for hook in received]
    assert {body["id"] for body in bodies} == {seen["created"]["id"]}
    assert bodies[-1]["status"] == "succeeded" and bodies[-1]["output"]
