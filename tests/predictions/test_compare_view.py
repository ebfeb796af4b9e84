"""/predictions/compare/: one prompt on 2–4 models, created together, shown side by side."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import ModelConfig
from predictions import services
from predictions.models import Prediction, Prompt, Status
from tests.world import IDEOGRAM, PRO, RECRAFT_SVG, SCHNELL, SDXL, wait_for

COMPARE = reverse("predictions:compare")


@pytest.mark.django_db
def test_the_form_offers_every_model_as_a_checkbox_grouped_by_vendor(member_client):
    html = member_client.get(COMPARE, {"prompt": "a stag", "models": [SCHNELL, RECRAFT_SVG]}).content.decode()
    assert html.count('type="checkbox" name="models"') == 28
    assert "<legend>Black Forest Labs</legend>" in html and "<legend>Recraft</legend>" in html
    assert f'value="{SCHNELL}" checked' in html and f'value="{RECRAFT_SVG}" checked' in html
    assert "a stag</textarea>" in html


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 5])
def test_fewer_than_two_or_more_than_four_models_are_refused(member_client, count):
    models = [SCHNELL, PRO, RECRAFT_SVG, IDEOGRAM, SDXL][:count]
    response = member_client.post(COMPARE, {"prompt": "a stag", "models": models})
    assert response.status_code == 400
    assert "Choose between 2 and 4 models." in response.content.decode()
    assert not Prediction.objects.exists()


@pytest.mark.django_db
def test_a_compare_creates_one_prediction_per_model_sharing_a_group_and_a_prompt(member_client, member):
    response = member_client.post(COMPARE, {"prompt": "a stag at dawn", "models": [SCHNELL, PRO, RECRAFT_SVG]})
    predictions = list(Prediction.objects.order_by("pk"))
    assert [p.model_id for p in predictions] == [SCHNELL, PRO, RECRAFT_SVG]
    group = predictions[0].compare_group
    assert group and all(p.compare_group == group for p in predictions)
    assert len({p.prompt_id for p in predictions}) == 1
    assert all(p.input == {"prompt": "a stag at dawn"} for p in predictions), "each model's own defaults"
    assert response["Location"] == reverse("predictions:compare_detail", args=[group])
    html = member_client.get(response["Location"]).content.decode()
    for p in predictions:
        assert f'data-live-url="/predictions/{p.pk}/live/"' in html
    assert html.count('data-prediction-status="queued"') == 3
    assert "Recraft V3 SVG" in html


@pytest.mark.django_db
def test_a_library_prompt_used_for_a_compare_links_every_prediction(member_client, member):
    saved = Prompt.objects.create(owner=member, text="a stag at dawn", name="Stag")
    assert "a stag at dawn</textarea>" in member_client.get(COMPARE, {"prompt_id": saved.pk}).content.decode()
    member_client.post(COMPARE, {"prompt": saved.text, "models": [SCHNELL, PRO], "prompt_id": saved.pk})
    assert set(Prediction.objects.values_list("prompt_id", flat=True)) == {saved.pk}


@pytest.mark.django_db
def test_a_compare_is_all_or_nothing(member):
    ModelConfig.objects.create(
        model_id="acme/strict",
        price=Decimal("0.01"),
        input_schema={
            "required": ["prompt", "size"],
            "properties": {"prompt": {"type": "string"}, "size": {"type": "integer"}},
        },
    )
    with pytest.raises(services.PredictionInputError) as exc:
        services.predictions_compare(owner=member, prompt_text="a stag", model_ids=[SCHNELL, PRO, "acme/strict"])
    assert exc.value.errors == {"models": "acme/strict: This field is required."}
    assert not Prediction.objects.exists() and not Prompt.objects.exists()


@pytest.mark.django_db
def test_a_prompt_too_long_for_every_model_is_shown_on_the_prompt(member_client, settings):
    settings.PROMPT_MAX_LENGTH = 10
    response = member_client.post(COMPARE, {"prompt": "a stag at dawn", "models": [SCHNELL, PRO]})
    assert response.status_code == 400
    assert re.search(r'has-error">\s*<label for="id_prompt">', response.content.decode())


@pytest.mark.django_db
def test_another_members_compare_is_404(member_client, other_member):
    group = services.predictions_compare(owner=other_member, prompt_text="x", model_ids=[SCHNELL, PRO])
    assert member_client.get(reverse("predictions:compare_detail", args=[group])).status_code == 404


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_compare_runs_through_the_pipeline_and_shows_each_result(worker, simulator, member_client, member):
    member_client.post(COMPARE, {"prompt": "a stag at dawn", "models": [SCHNELL, PRO, RECRAFT_SVG]})
    predictions = [wait_for(p, Status.SUCCEEDED) for p in Prediction.objects.order_by("pk")]
    assert simulator.stats.creates == 3
    page = reverse("predictions:compare_detail", args=[predictions[0].compare_group])
    html = member_client.get(page).content.decode()
    assert html.count('data-prediction-status="succeeded"') == 3
    for p in predictions:
        assert f'<img src="/predictions/{p.pk}/outputs/0/"' in html
