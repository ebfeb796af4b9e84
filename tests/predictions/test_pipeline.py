"""The submit → poll → store pipeline, end to end.

A real `celery -A deerweb worker` process (with beat) on PostgreSQL and Redis,
talking over HTTP to the DeerAPI simulator. Nothing here is mocked.
"""

import hashlib
import io
import time

import pytest
from PIL import Image

from predictions import services
from predictions.models import Status
from tests.world import PRO, submit, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_prediction_goes_from_queued_to_succeeded_with_its_images_stored(worker, simulator, member):
    prediction = submit(member, num_outputs=2, output_format="png", seed=7)
    prediction = wait_for(prediction, Status.SUCCEEDED)

    assert prediction.deerapi_id in simulator.predictions
    assert simulator.stats.creates == 1
    assert prediction.submitted_at and prediction.completed_at
    assert prediction.poll_count >= 1
    assert prediction.metrics.get("image_count") == 2
    outputs = list(prediction.outputs.order_by("index"))
    assert [o.index for o in outputs] == [0, 1]
    for output in outputs:
        data = output.file.read()
        assert output.content_type == "image/png"
        assert output.size == len(data)
        assert output.checksum == hashlib.sha256(data).hexdigest()
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG"
            assert (output.width, output.height) == image.size
        assert output.thumbnail, "a thumbnail is made for the history list"


def test_a_model_returning_one_url_string_is_stored_as_one_output(worker, simulator, member):
    prediction = wait_for(submit(member, model_id=PRO, output_format="jpg"), Status.SUCCEEDED)
    output = prediction.outputs.get()
    assert output.content_type == "image/jpeg"


def test_a_failed_prediction_shows_deerapis_message(worker, simulator, member):
    simulator.fail_next(error="NSFW content detected. Try a different prompt.")
    prediction = wait_for(submit(member), Status.FAILED)
    assert prediction.error == "NSFW content detected. Try a different prompt."
    assert not prediction.outputs.exists()
    assert prediction.completed_at


def test_a_create_refused_with_429_is_sent_again_after_retry_after_and_succeeds(worker, simulator, member):
    simulator.inject("create", status=429, count=2, retry_after=1)
    prediction = wait_for(submit(member), Status.SUCCEEDED, timeout=40)
    assert simulator.stats.create_requests == 3
    assert simulator.stats.creates == 1, "only one prediction exists at DeerAPI"
    assert prediction.attempts == 1, "the attempt counter was reset when storing began"


def test_a_burst_of_5xx_on_polls_is_ridden_out(worker, simulator, member):
    simulator.inject("get", status=502, count=3)
    prediction = wait_for(submit(member), Status.SUCCEEDED, timeout=40)
    assert prediction.poll_count >= 4
    assert simulator.stats.creates == 1


def test_a_create_whose_answer_never_came_is_marked_unknown_and_not_sent_twice(worker, simulator, member):
    simulator.inject("create", drop=True)
    prediction = wait_for(submit(member), Status.UNKNOWN)
    time.sleep(3)  # give a wrong retry every chance to happen
    prediction.refresh_from_db()
    assert prediction.status == Status.UNKNOWN
    assert simulator.stats.create_requests == 1
    assert simulator.stats.creates == 1
    assert "not sent again" in prediction.error


def test_a_cancel_while_the_create_is_on_its_way_cancels_the_prediction_at_deerapi(worker, simulator, member):
    simulator.inject("create", delay=1.5)  # within the worker's read timeout (3 s): an answer, late
    prediction = wait_for(submit(member, prompt="[[slow]] a doe"), Status.SUBMITTING)
    assert services.prediction_cancel(prediction)
    prediction = wait_for(prediction, Status.CANCELED)
    assert (simulator.stats.creates, simulator.stats.cancels) == (1, 1)


def test_a_permanent_error_fails_the_prediction_with_the_reason(worker, simulator, member):
    simulator.inject(
        "create",
        status=422,
        body={
            "title": "Input validation failed",
            "status": 422,
            "detail": "- input.aspect_ratio: aspect_ratio must be one of ...",
            "invalid_fields": [{"type": "enum", "field": "input.aspect_ratio", "description": "must be one of 1:1"}],
        },
    )
    prediction = wait_for(submit(member), Status.FAILED)
    assert "Input validation failed" in prediction.error
    assert "aspect_ratio" in prediction.error
    assert simulator.stats.creates == 0


def test_outputs_that_expired_before_download_are_reported(worker, simulator, member):
    simulator.inject("file", status=404, count=10)
    prediction = wait_for(submit(member), Status.FAILED)
    assert "expired" in prediction.error
    assert not prediction.outputs.exists()


def test_a_worker_stopped_mid_poll_is_recovered_by_the_sweep_after_restart(worker, simulator, member):
    simulator.processing_seconds = 4.0
    try:
        prediction = wait_for(submit(member), Status.PROCESSING, timeout=30)
        worker.kill()
        time.sleep(1)
        worker.start()
        prediction = wait_for(prediction, Status.SUCCEEDED, timeout=45)
    finally:
        simulator.processing_seconds = 0.6
    assert simulator.stats.creates == 1
    assert prediction.outputs.count() == 1


def test_a_long_prediction_is_polled_when_its_progress_bar_says_it_ends_not_every_second(
    worker, simulator, member, monkeypatch
):
    # 6 s of processing over flux-schnell's 4 steps: a 1 s schedule would poll about 6 times.
    monkeypatch.setattr(simulator, "processing_seconds", 6.0)
    prediction = wait_for(submit(member), Status.SUCCEEDED, timeout=30)
    assert prediction.poll_count <= 3
    assert simulator.stats.gets <= 3
    assert prediction.outputs.count() == 1


def test_without_a_progress_bar_a_model_is_polled_when_its_last_runs_ended_not_every_second(
    worker, simulator, member, monkeypatch
):
    monkeypatch.setattr(simulator, "processing_seconds", 6.0)
    simulator.logs = "plain"
    first = wait_for(submit(member), Status.SUCCEEDED, timeout=30)
    assert first.poll_count >= 5, "nothing learned yet: polled every second"

    learned = wait_for(submit(member), Status.SUCCEEDED, timeout=30)
    assert learned.poll_count <= 3
    assert learned.outputs.count() == 1
