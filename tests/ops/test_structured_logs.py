"""Structured logs: one `key=value` (or JSON) line per record, with `prediction_id` on every
line about a prediction, in the worker (tasks) and in the web process (its pages)."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from ops.logging import (
    JsonFormatter,
    KeyValueFormatter,
    PredictionContextFilter,
    RedactSecretsFilter,
    about_prediction,
    current_prediction_id,
    prediction_context,
)
from predictions import selectors, tasks
from predictions.models import Prediction, Status
from tests.world import SCHNELL, load_settings, make_prediction, submit, wait_for

log = logging.getLogger("predictions.tests")


def record(message: str, *args, exc_info=None) -> logging.LogRecord:
    item = log.makeRecord(log.name, logging.WARNING, __file__, 1, message, args, exc_info)
    PredictionContextFilter().filter(item)
    return item


@pytest.fixture
def console(caplog) -> io.StringIO:
    """What the configured console handler writes, INFO and up."""
    caplog.set_level(logging.INFO)
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def lines_about(text: str, pk: int) -> list[str]:
    return [line for line in text.splitlines() if re.search(rf"\bprediction={pk}\b", line)]


# --- Formats --------------------------------------------------------------------------


def test_a_line_inside_a_prediction_context_carries_its_id():
    with prediction_context(42):
        line = KeyValueFormatter().format(record("prediction=%s status=%s", 42, "starting"))
    assert re.fullmatch(
        r'time=\S+Z level=WARNING logger=predictions\.tests prediction_id=42 message="prediction=42 status=starting"',
        line,
    )


def test_a_line_outside_any_prediction_has_no_prediction_id():
    line = KeyValueFormatter().format(record("sweep queued=%d", 3))
    assert "prediction_id" not in line
    assert line.endswith('message="sweep queued=3"')


def test_contexts_nest_and_end():
    with prediction_context(1):
        with prediction_context(2):
            assert current_prediction_id() == 2
        assert current_prediction_id() == 1
    assert current_prediction_id() is None


def test_key_value_lines_quote_what_needs_quoting_and_stay_one_line():
    line = KeyValueFormatter().format(record('a "quoted"\nsecond line = %s', "x"))
    assert line.count("\n") == 0
    assert line.endswith(r'message="a \"quoted\"\nsecond line = x"')
    assert " level=WARNING " in line


def test_a_traceback_follows_a_key_value_line():
    try:
        raise ValueError("bad value")
    except ValueError:
        line = KeyValueFormatter().format(record("failed", exc_info=sys.exc_info()))
    first, *rest = line.splitlines()
    assert first.endswith("message=failed")
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "ValueError: bad value"


def test_json_lines_are_one_object_each_with_the_prediction_id_and_the_traceback():
    try:
        raise ValueError("bad value")
    except ValueError:
        with prediction_context(7):
            line = JsonFormatter().format(record("store failed for %s", "prediction=7", exc_info=sys.exc_info()))
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["prediction_id"] == 7
    assert fields["level"] == "WARNING"
    assert fields["logger"] == "predictions.tests"
    assert fields["message"] == "store failed for prediction=7"
    assert fields["exc_info"].endswith("ValueError: bad value")
    assert fields["time"].endswith("Z")


def test_json_lines_outside_a_prediction_have_no_prediction_id():
    assert "prediction_id" not in json.loads(JsonFormatter().format(record("hello")))


def test_deerweb_log_format_json_makes_the_console_write_json():
    result = load_settings(
        "import django, logging; django.setup(); logging.getLogger('predictions').warning('hello')",
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_SETTINGS_MODULE="deerweb.settings",
        DEERWEB_LOG_FORMAT="json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stderr.strip().splitlines()[-1])["message"] == "hello"


def test_an_unknown_log_format_stops_start_up():
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, DEERWEB_LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "DEERWEB_LOG_FORMAT" in result.stderr


# --- Where the prediction id comes from ------------------------------------------------------


def test_a_task_about_a_prediction_logs_with_its_id():
    seen = []

    @about_prediction
    def task(prediction_id: int) -> None:
        seen.append(current_prediction_id())

    task(31)
    assert seen == [31]
    assert current_prediction_id() is None


@pytest.mark.django_db
def test_the_pipeline_tasks_log_with_the_prediction_id(console, simulator, member):
    prediction = make_prediction(member)
    tasks.submit(prediction.pk)
    Prediction.objects.filter(pk=prediction.pk).update(
        status=Status.STORING, remote_output=[], next_poll_at=timezone.now()
    )
    tasks.store(prediction.pk)
    lines = lines_about(console.getvalue(), prediction.pk)
    assert [line.rsplit("message=", 1)[1] for line in lines] == [
        f'"prediction={prediction.pk} created model={SCHNELL} owner={member.pk}"',
        f'"prediction={prediction.pk} status=starting"',
        f'"prediction={prediction.pk} status=succeeded"',
    ]
    assert all(f" prediction_id={prediction.pk} " in line for line in lines), lines


@pytest.mark.django_db
def test_a_sweep_that_times_out_a_prediction_logs_with_its_id(console, member, settings):
    prediction = make_prediction(member)
    Prediction.objects.filter(pk=prediction.pk).update(
        created_at=prediction.created_at - timedelta(seconds=settings.PREDICTION_TIMEOUT + 1)
    )
    tasks.sweep()
    line = next(line for line in lines_about(console.getvalue(), prediction.pk) if "status=failed" in line)
    assert f" prediction_id={prediction.pk} " in line


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["", "live/"])
def test_the_detail_and_live_pages_log_with_the_prediction_id(console, member_client, member, monkeypatch, page):
    prediction = make_prediction(member)
    lookup = selectors.prediction_get

    def logged_lookup(user, pk):
        log.warning("looking up a prediction")
        return lookup(user, pk)

    monkeypatch.setattr(selectors, "prediction_get", logged_lookup)
    assert member_client.get(f"/predictions/{prediction.pk}/{page}").status_code == 200
    line = next(line for line in console.getvalue().splitlines() if "looking up a prediction" in line)
    assert f"prediction_id={prediction.pk}" in line
    assert current_prediction_id() is None


@pytest.mark.django_db
def test_pages_about_no_prediction_log_without_an_id(console, member_client, monkeypatch):
    history = selectors.prediction_history

    def logged_history(*args, **kwargs):
        log.warning("listing predictions")
        return history(*args, **kwargs)

    monkeypatch.setattr(selectors, "prediction_history", logged_history)
    assert member_client.get("/predictions/").status_code == 200
    line = next(line for line in console.getvalue().splitlines() if "listing predictions" in line)
    assert "prediction_id" not in line


# --- In the worker ------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_workers_lines_about_a_prediction_carry_its_id(worker, member):
    prediction = submit(member, prompt="a deer by a lake")
    wait_for(prediction, Status.SUCCEEDED)
    lines = lines_about(worker.log(), prediction.pk)
    assert any("status=succeeded" in line for line in lines), worker.log()[-3000:]
    assert all(f"prediction_id={prediction.pk}" in line for line in lines), lines
