"""services.prediction_create: validation against the schema, and what gets saved."""

import pytest

from predictions import services
from predictions.models import Prediction, Status
from tests.world import SCHNELL

pytestmark = pytest.mark.django_db


def test_a_valid_input_is_saved_as_queued_and_due_with_only_the_models_keys(
    member, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        prediction = services.prediction_create(
            owner=member,
            model_id=SCHNELL,
            input={"prompt": "  a deer in snow ", "aspect_ratio": "16:9", "num_outputs": 2, "seed": None},
        )
    assert prediction.status == Status.QUEUED
    assert prediction.input == {"prompt": "a deer in snow", "aspect_ratio": "16:9", "num_outputs": 2}
    assert prediction.prompt.text == "a deer in snow"
    assert prediction.prompt.owner == member
    assert prediction.next_poll_at == prediction.created_at, "due at once: the workers' pollers claim it"
    assert broker.messages == []


def test_without_pollers_the_submit_task_is_enqueued_once_after_commit(
    member, broker, settings, django_capture_on_commit_callbacks
):
    settings.POLL_THREADS = 0
    with django_capture_on_commit_callbacks() as callbacks:
        prediction = services.prediction_create(owner=member, model_id=SCHNELL, input={"prompt": "a deer"})
    assert broker.messages == []
    for callback in callbacks:
        callback()
    assert broker.sent("submit") == [[prediction.pk]]


def test_an_unknown_model_is_refused_and_nothing_is_saved(member):
    with pytest.raises(services.PredictionInputError) as exc:
        services.prediction_create(owner=member, model_id="acme/nothing", input={"prompt": "x"})
    assert "model" in exc.value.errors
    assert not Prediction.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "prompt", "required"),
        ({"prompt": "x", "num_outputs": 9}, "num_outputs", "at most 4"),
        ({"prompt": "x", "num_outputs": 0}, "num_outputs", "at least 1"),
        ({"prompt": "x", "num_outputs": "two"}, "num_outputs", "whole number"),
        ({"prompt": "x", "aspect_ratio": "7:1"}, "aspect_ratio", "Choose one of"),
        ({"prompt": "x", "go_fast": "yes"}, "go_fast", "yes or no"),
        ({"prompt": "x", "width": 512}, "width", "no input named"),
        ({"prompt": "x" * 5000}, "prompt", "too long"),
    ],
)
def test_bad_input_gets_a_message_for_its_field(member, data, field, message):
    with pytest.raises(services.PredictionInputError) as exc:
        services.prediction_create(owner=member, model_id=SCHNELL, input=data)
    assert message in exc.value.errors[field]
    assert not Prediction.objects.exists()
