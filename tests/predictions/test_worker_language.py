"""What the worker writes about a prediction is in the language of the page it was submitted from."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone, translation

from predictions import pipeline
from predictions.models import Prediction, Status
from tests.world import submit, wait_for

UNKNOWN_ZH = "DeerWeb 已将此生成任务发送给 DeerAPI"


def submit_in(language: str, owner) -> Prediction:
    with translation.override(language):
        return submit(owner)


@pytest.mark.django_db
def test_a_prediction_remembers_the_language_it_was_submitted_in(member):
    assert submit_in("zh-hans", member).language == "zh-hans"
    assert submit_in("en", member).language == "en"


@pytest.mark.services
def test_the_workers_message_for_a_chinese_page_is_in_chinese(worker, simulator, member):
    simulator.inject("create", drop=True)
    prediction = wait_for(submit_in("zh-hans", member), Status.UNKNOWN)
    assert prediction.error.startswith(UNKNOWN_ZH)


@pytest.mark.services
def test_the_workers_message_for_an_english_page_is_in_english(worker, simulator, member):
    simulator.inject("create", drop=True)
    prediction = wait_for(submit_in("en", member), Status.UNKNOWN)
    assert prediction.error.startswith("DeerWeb sent this prediction to DeerAPI")


@pytest.mark.django_db
def test_the_sweeps_timeout_message_is_in_the_members_language(member, django_capture_on_commit_callbacks):
    chinese, english = submit_in("zh-hans", member), submit_in("en", member)
    Prediction.objects.filter(pk__in=[chinese.pk, english.pk]).update(
        created_at=timezone.now() - timedelta(seconds=settings.PREDICTION_TIMEOUT + 60)
    )
    with django_capture_on_commit_callbacks():
        pipeline.predictions_sweep()
    chinese.refresh_from_db()
    english.refresh_from_db()
    assert (chinese.status, english.status) == (Status.FAILED, Status.FAILED)
    assert chinese.error.startswith("已超时")
    assert english.error.startswith("Timed out")
