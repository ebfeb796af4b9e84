"""/prompts/: save a prompt with a name (from the library or a prediction), reuse it, see its predictions."""

import pytest
from django.urls import reverse

from predictions import services
from predictions.models import Prediction, Prompt, ReviewState, Status
from tests.world import submit

pytestmark = pytest.mark.django_db
LIBRARY = reverse("prompts:list")
SAVE_FROM_PREDICTION = reverse("prompts:save_from_prediction")


def test_a_member_saves_a_new_prompt_and_sees_it_in_the_library(member_client, member):
    response = member_client.post(LIBRARY, {"name": "Lake", "text": "  a deer by the lake  "})
    assert response.status_code == 302
    saved = Prompt.objects.get(owner=member)
    assert (saved.name, saved.text) == ("Lake", "a deer by the lake")
    html = member_client.get(LIBRARY).content.decode()
    assert "Lake" in html and "a deer by the lake" in html
    assert f'href="/predictions/new/?prompt_id={saved.pk}"' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "text": "x"}, "This field is required."),
        ({"name": "   ", "text": "x"}, "This field is required."),
        ({"name": "Lake", "text": ""}, "This field is required."),
        ({"name": "n" * 121, "text": "x"}, "at most 120 characters"),
    ],
)
def test_a_prompt_without_a_name_or_text_is_refused_with_a_message(member_client, data, message):
    response = member_client.post(LIBRARY, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Prompt.objects.exists()


def test_two_prompts_cannot_share_a_name(member_client, member):
    Prompt.objects.create(owner=member, text="first", name="Lake")
    response = member_client.post(LIBRARY, {"name": "Lake", "text": "second"})
    assert response.status_code == 400
    assert "You already have a prompt named “Lake”." in response.content.decode()


def test_saving_from_a_prediction_names_its_prompt_so_its_predictions_stay_linked(member_client, member):
    prediction = submit(member)
    again = services.prediction_create(
        owner=member, model_id="recraftv3", input={"prompt": prediction.prompt.text}, prompt=prediction.prompt
    )
    response = member_client.post(SAVE_FROM_PREDICTION, {"prediction": prediction.pk, "name": "Lake"})
    assert response.status_code == 302 and response["Location"] == prediction.get_absolute_url()
    prompt = Prompt.objects.get(pk=prediction.prompt_id)
    assert prompt.name == "Lake"
    detail = member_client.get(reverse("prompts:detail", args=[prompt.pk])).content.decode()
    assert f'href="/predictions/{prediction.pk}/"' in detail and f'href="/predictions/{again.pk}/"' in detail
    assert "2 predictions" in member_client.get(LIBRARY).content.decode()


def test_the_prediction_page_offers_saving_and_then_shows_the_library_entry(member_client, member):
    prediction = submit(member)
    html = member_client.get(prediction.get_absolute_url()).content.decode()
    assert f'action="{SAVE_FROM_PREDICTION}"' in html
    member_client.post(SAVE_FROM_PREDICTION, {"prediction": prediction.pk, "name": "Lake"})
    html = member_client.get(prediction.get_absolute_url()).content.decode()
    assert f'action="{SAVE_FROM_PREDICTION}"' not in html
    assert f'href="/prompts/{prediction.prompt_id}/">Lake</a>' in html


def test_saving_a_teammates_gallery_prediction_copies_its_prompt(member_client, member, other_member):
    theirs = submit(other_member, prompt="their words")
    Prediction.objects.filter(pk=theirs.pk).update(status=Status.SUCCEEDED, review_state=ReviewState.APPROVED)
    member_client.post(SAVE_FROM_PREDICTION, {"prediction": theirs.pk, "name": "Borrowed"})
    copy = Prompt.objects.get(owner=member)
    assert (copy.name, copy.text) == ("Borrowed", "their words")
    assert Prompt.objects.get(pk=theirs.prompt_id).name == ""


def test_a_prediction_the_member_cannot_see_cannot_be_saved(member_client, other_member):
    theirs = submit(other_member)
    assert member_client.post(SAVE_FROM_PREDICTION, {"prediction": theirs.pk, "name": "x"}).status_code == 404


def test_using_a_library_prompt_links_the_new_prediction_to_it(member_client, member):
    saved = Prompt.objects.create(owner=member, text="a deer by the lake", name="Lake")
    member_client.post(reverse("predictions:new"), {"model": "recraftv3", "prompt": saved.text, "prompt_id": saved.pk})
    member_client.post(reverse("predictions:new"), {"model": "recraftv3", "prompt": "changed", "prompt_id": saved.pk})
    assert list(saved.predictions.values_list("prompt__text", flat=True)) == ["a deer by the lake"]
    assert Prediction.objects.count() == 2, "a changed text makes a new prompt"


def test_a_prompt_can_be_renamed_and_removed_from_the_library_keeping_its_predictions(member_client, member):
    prediction = submit(member)
    prompt = prediction.prompt
    member_client.post(SAVE_FROM_PREDICTION, {"prediction": prediction.pk, "name": "Lake"})
    member_client.post(reverse("prompts:rename", args=[prompt.pk]), {"name": "Lakeside"})
    prompt.refresh_from_db()
    assert prompt.name == "Lakeside"
    member_client.post(reverse("prompts:forget", args=[prompt.pk]))
    prompt.refresh_from_db()
    assert prompt.name == ""
    assert prompt.predictions.get() == prediction
    assert ">Lakeside</a>" not in member_client.get(LIBRARY).content.decode()


def test_another_members_prompts_are_404(member_client, other_member):
    theirs = Prompt.objects.create(owner=other_member, text="theirs", name="Theirs")
    assert member_client.get(reverse("prompts:detail", args=[theirs.pk])).status_code == 404
    assert member_client.post(reverse("prompts:rename", args=[theirs.pk]), {"name": "Mine"}).status_code == 404
    assert member_client.post(reverse("prompts:forget", args=[theirs.pk])).status_code == 404
    assert "Theirs" not in member_client.get(LIBRARY).content.decode()


def test_the_library_costs_the_same_queries_for_few_or_many_prompts(
    member_client, member, django_assert_max_num_queries
):
    Prompt.objects.create(owner=member, text="one", name="One")
    with django_assert_max_num_queries(10) as few:
        member_client.get(LIBRARY)
    for n in range(30):
        prompt = Prompt.objects.create(owner=member, text=f"text {n}", name=f"P{n:02d}")
        services.prediction_create(owner=member, model_id="recraftv3", input={"prompt": prompt.text}, prompt=prompt)
    with django_assert_max_num_queries(len(few.captured_queries)):
        member_client.get(LIBRARY)
