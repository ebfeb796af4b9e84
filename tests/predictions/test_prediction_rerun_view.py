"""POST /predictions/<id>/rerun/ ("Run again"): the same inputs, a new seed unless it was fixed;
and the seed DeerAPI used, read from its logs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import ModelConfig
from predictions.models import Prediction, ReviewState, Status
from tests.world import PROMPT, SCHNELL, submit, wait_for


def rerun_url(prediction: Prediction) -> str:
    return reverse("predictions:rerun", args=[prediction.pk])


@pytest.mark.django_db
def test_run_again_makes_a_new_prediction_with_the_same_inputs_linked_to_its_source(member_client, member):
    source = submit(member, aspect_ratio="3:2", num_outputs=2)
    response = member_client.post(rerun_url(source))
    again = Prediction.objects.exclude(pk=source.pk).get()
    assert response["Location"] == again.get_absolute_url()
    assert again.input == source.input
    assert "seed" not in again.input, "DeerAPI draws a new seed"
    assert (again.source, again.prompt, again.owner) == (source, source.prompt, member)


@pytest.mark.django_db
def test_a_seed_the_member_fixed_is_kept(member_client, member):
    source = submit(member, seed=1234)
    member_client.post(rerun_url(source))
    assert Prediction.objects.exclude(pk=source.pk).get().input["seed"] == 1234


@pytest.mark.django_db
def test_run_again_is_a_post(member_client, member):
    assert member_client.get(rerun_url(submit(member))).status_code == 405


@pytest.mark.django_db
def test_a_member_cannot_run_again_a_prediction_they_cannot_see(member_client, other_member):
    theirs = submit(other_member)
    assert member_client.post(rerun_url(theirs)).status_code == 404
    assert Prediction.objects.count() == 1


@pytest.mark.django_db
def test_a_teammates_gallery_prediction_runs_again_as_the_members_own(member_client, member, other_member):
    theirs = submit(other_member)
    Prediction.objects.filter(pk=theirs.pk).update(status=Status.SUCCEEDED, review_state=ReviewState.APPROVED)
    member_client.post(rerun_url(theirs))
    mine = Prediction.objects.get(owner=member)
    assert mine.source_id == theirs.pk
    assert mine.prompt.owner == member and mine.prompt.text == PROMPT


@pytest.mark.django_db
def test_when_the_model_was_disabled_the_member_is_told_and_sent_to_the_form(member_client, member):
    source = submit(member)
    ModelConfig.objects.create(model_id=SCHNELL, enabled=False)
    response = member_client.post(rerun_url(source), follow=True)
    assert response.redirect_chain[0][0] == f"{reverse('predictions:new')}?from={source.pk}"
    assert "Could not run it again" in response.content.decode()
    assert Prediction.objects.count() == 1


@pytest.mark.django_db
def test_the_detail_page_offers_run_again_and_edit_and_run(member_client, member):
    source = submit(member)
    html = member_client.get(source.get_absolute_url()).content.decode()
    assert f'action="{rerun_url(source)}"' in html
    assert f'href="/predictions/new/?from={source.pk}"' in html


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_run_again_through_the_pipeline_gets_a_new_seed_and_shows_the_one_used(
    worker, simulator, member_client, member
):
    source = wait_for(submit(member), Status.SUCCEEDED)
    assert source.seed is not None, "the seed is read from DeerAPI's logs"
    assert f"Using seed: {source.seed}" in source.logs
    member_client.post(rerun_url(source))
    again = wait_for(Prediction.objects.exclude(pk=source.pk).get(), Status.SUCCEEDED)
    assert again.seed is not None and again.seed != source.seed
    html = member_client.get(again.get_absolute_url()).content.decode()
    assert f"<dd data-seed>{again.seed}</dd>" in html

    fixed = wait_for(submit(member, seed=99), Status.SUCCEEDED)
    member_client.post(rerun_url(fixed))
    fixed_again = wait_for(Prediction.objects.filter(source=fixed).get(), Status.SUCCEEDED)
    assert fixed.seed == fixed_again.seed == 99
    assert fixed.outputs.get().checksum == fixed_again.outputs.get().checksum, "same seed, same image"
