"""The status machine: one table of transitions; terminal states never change."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from predictions import services
from predictions.models import TERMINAL, TRANSITIONS, Prediction, Status, can_transition
from tests.world import submit


def test_terminal_statuses_have_no_way_out():
    for status in TERMINAL:
        assert TRANSITIONS[status] == frozenset()


def test_every_status_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(Status.values)


def test_unknown_is_left_only_for_a_final_answer():
    assert can_transition(Status.UNKNOWN, Status.FAILED)
    assert not can_transition(Status.UNKNOWN, Status.QUEUED)
    assert not can_transition(Status.UNKNOWN, Status.SUBMITTING)


@pytest.mark.django_db
def test_a_transition_from_a_status_the_row_has_left_does_nothing(member):
    prediction = submit(member, prompt="x")
    Prediction.objects.filter(pk=prediction.pk).update(status=Status.SUCCEEDED)
    assert services.prediction_transition(prediction.pk, Status.QUEUED, Status.FAILED) is False
    prediction.refresh_from_db()
    assert prediction.status == Status.SUCCEEDED


def test_a_transition_the_table_forbids_raises():
    with pytest.raises(ValueError):
        services.prediction_transition(1, Status.SUCCEEDED, Status.PROCESSING)


@pytest.mark.django_db
def test_an_end_reads_its_row_back_in_its_update_not_with_a_select_of_its_own(member):
    prediction = submit(member, prompt="x")
    Prediction.objects.filter(pk=prediction.pk).update(status=Status.STORING)

    with CaptureQueriesContext(connection) as queries:
        assert services.prediction_transition(prediction.pk, Status.STORING, Status.FAILED, error="gone")

    statements = [query["sql"] for query in queries.captured_queries]
    assert any(sql.startswith('UPDATE "predictions_prediction"') and "RETURNING" in sql for sql in statements)
    assert not any(sql.startswith("SELECT") and 'FROM "predictions_prediction"' in sql for sql in statements)
    prediction.refresh_from_db()
    assert (prediction.status, prediction.actual_cost, prediction.error) == (Status.FAILED, 0, "gone")
