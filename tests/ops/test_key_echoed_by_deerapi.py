"""DeerAPI echoing the key it received ("Incorrect API key provided: …"), on every error
path the simulator has: the key reaches no page, no stored field and no log line."""

from __future__ import annotations

import logging
import time
import traceback

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing import deerapi_account
from billing.models import TeamSettings
from deerapi.client import DeerAPIClient, TransientError
from ops.redaction import redact
from predictions import pipeline
from predictions.models import REMOTE, Prediction, Status
from tests.world import SCHNELL, submit, submitted

pytestmark = pytest.mark.django_db
KEY = settings.DEERAPI_KEY


@pytest.fixture
def echoing(simulator, settings, caplog):
    """The simulator as DeerAPI's API and balance host, and every log record captured."""
    settings.DEERAPI_QUERY_URL = simulator.url
    caplog.set_level(logging.DEBUG)
    return simulator


def polled(prediction: Prediction, times: int = 1) -> Prediction:
    """Poll DeerAPI `times` times now (or until the prediction leaves DeerAPI)."""
    for _ in range(times):
        prediction.refresh_from_db()
        if prediction.status not in REMOTE:
            break
        Prediction.objects.filter(pk=prediction.pk).update(next_poll_at=timezone.now())
        pipeline.prediction_refresh(prediction.pk)
    prediction.refresh_from_db()
    return prediction


def polled_until_done(prediction: Prediction) -> Prediction:
    for _ in range(100):
        if polled(prediction).status not in REMOTE:
            break
        time.sleep(0.1)
    return prediction


def columns_holding(text: str) -> list[str]:
    """Every column of every table (read as text) where `text` appears."""
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                cursor.execute(
                    f"SELECT 1 FROM {quote(table)} WHERE CAST({quote(column.name)} AS TEXT) LIKE %s",  # noqa: S608
                    [f"%{text}%"],
                )
                if cursor.fetchone():
                    found.append(f"{table}.{column.name}")
    return found


def pages_showing(client, user, urls: list[str], text: str) -> list[str]:
    client.force_login(user)
    shown = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if text in response.content.decode():
            shown.append(url)
    return shown


def test_the_simulator_echoes_the_key_it_received(echoing):
    echoing.inject("create", echo_key=True)
    echoing.inject("quota", status=403, echo_key=True)
    with pytest.raises(Exception) as create_error:
        DeerAPIClient().create_prediction(SCHNELL, {"prompt": "x"})
    with pytest.raises(Exception) as balance_error:
        DeerAPIClient().get_balance()
    assert (create_error.value.status_code, balance_error.value.status_code) == (401, 403)
    assert "Incorrect API key provided: [redacted]" in create_error.value.message
    assert "Incorrect API key provided: [redacted]" in balance_error.value.message


def test_a_dead_redirect_makes_the_clients_connection_error_name_the_url(echoing):
    echoing.inject("quota", dead_redirect=True)
    with pytest.raises(TransientError) as error:
        DeerAPIClient().get_balance()
    chained = error.value.__cause__
    assert "/user/quota?key=[redacted]" in str(chained)
    assert KEY not in "".join(traceback.format_exception(error.value))


def test_no_error_path_puts_the_key_on_a_page_in_the_database_or_in_a_log_line(
    echoing, client, member, admin_user, caplog
):
    """Every way DeerAPI's text reaches DeerWeb, each echoing the key."""
    problem = {
        "title": "Input validation failed",
        "detail": f"the key {KEY} may not do this",
        "invalid_fields": [{"field": "input.seed", "description": f"not for key {KEY}"}],
    }
    echoed = {
        "create 401": {"echo_key": True},
        "create 402": {"echo_key": True, "status": 402},
        "create 403": {"echo_key": True, "status": 403},
        "create 400": {"echo_key": True, "status": 400},
        "create 422": {"status": 422, "body": problem},
        "create text": {"status": 400, "body": f"Bad request for Bearer {KEY}"},
        "create 500": {"echo_key": True, "status": 500},
        "create 503": {"echo_key": True, "status": 503},
        "create redirect": {"dead_redirect": True},
    }
    made = []
    for _name, fault in echoed.items():
        echoing.inject("create", **fault)
        made.append(submitted(member))
    assert {p.status for p in made} == {Status.FAILED, Status.UNKNOWN, Status.QUEUED}

    # A prediction DeerAPI fails, with the key in its error and so in its logs.
    echoing.fail_next(error=f"Could not load weights with key={KEY}: Incorrect API key provided: {KEY}")
    failed = polled_until_done(submitted(member))
    assert failed.status == Status.FAILED and "Could not load weights" in failed.error and failed.logs
    made.append(failed)

    # Polls refused with the key: rejected and busy are tried again, not found fails it.
    for status in (401, 503, 404):
        running = submitted(member)
        echoing.inject("get", echo_key=True, status=status)
        made.append(polled(running))
    assert made[-1].status == Status.FAILED

    # The balance endpoint: a connection error naming its URL, then an error echoing the key.
    echoing.inject("quota", dead_redirect=True)
    assert not deerapi_account.deerapi_balance_refresh()
    echoing.inject("quota", echo_key=True)
    assert not deerapi_account.deerapi_balance_refresh()
    assert "Incorrect API key provided" in TeamSettings.objects.get(pk=1).deerapi_check_error

    assert columns_holding(KEY) == []
    member_pages = ["/predictions/", "/predictions/?view=grid", "/usage/"]
    for prediction in made:
        member_pages += [
            f"/predictions/{prediction.pk}/",
            f"/predictions/{prediction.pk}/live/",
            f"/predictions/new/?from={prediction.pk}",
        ]
    admin_pages = [
        *member_pages,
        "/usage/team/",
        "/admin/",
        "/admin/predictions/prediction/",
        "/admin/billing/teamsettings/1/change/",
        *(f"/admin/predictions/prediction/{p.pk}/change/" for p in made),
    ]
    assert pages_showing(client, member, member_pages, KEY) == []
    assert pages_showing(client, admin_user, admin_pages, KEY) == []
    assert KEY not in caplog.text
    assert "[redacted]" in caplog.text


def test_a_bearer_token_an_sk_key_and_a_key_parameter_are_redacted_whatever_the_key():
    text = "Bearer abcdef123456 / Incorrect API key provided: sk-proj-Zx81***9qQ / GET /user/quota?key=rotated1"
    assert redact(text) == "Bearer [redacted] / Incorrect API key provided: [redacted] / GET /user/quota?key=[redacted]"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_meeting_a_key_echoing_deerapi_stores_and_logs_no_key(worker, simulator, member, wait):
    simulator.inject("create", echo_key=True)
    rejected = submit(member, prompt="a deer, rejected")
    wait(rejected, Status.FAILED)
    # One at a time: the next prediction the simulator makes is the one that fails.
    simulator.fail_next(error=f"Incorrect API key provided: {KEY}")
    failing = submit(member, prompt="a deer, failed")
    wait(failing, Status.FAILED)
    simulator.inject("create", echo_key=True, status=503)
    busy = submit(member, prompt="a deer, retried")
    wait(busy, Status.SUCCEEDED, timeout=40)
    assert "Incorrect API key provided: [redacted]" in rejected.error
    assert "Incorrect API key provided: [redacted]" in failing.error
    assert columns_holding(KEY) == []
    assert KEY not in worker.log()
