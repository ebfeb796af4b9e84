"""The prediction pages: the form, history, detail, live part, files, and who sees what."""

import base64

import pytest
from django.urls import reverse

from predictions import pipeline
from predictions.models import Prediction, Status
from tests.world import PRO, PROMPT, SCHNELL, add_output, make_prediction

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for url in (reverse("predictions:list"), reverse("predictions:new"), "/predictions/1/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_login_page_logs_a_member_in(client, member):
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct-horse-battery-staple"})
    assert response.status_code == 302
    assert client.get(reverse("predictions:list")).status_code == 200


def test_the_form_offers_the_models_and_fields_named_as_the_models_inputs(member_client):
    response = member_client.get(reverse("predictions:new"))
    html = response.content.decode()
    assert response.status_code == 200
    for model_id in (SCHNELL, PRO):
        assert f'value="{model_id}"' in html
    for name in ("prompt", "aspect_ratio", "output_format", "seed", "num_outputs"):
        assert f'name="{name}"' in html


def test_choosing_another_model_shows_its_fields_and_keeps_the_prompt(member_client):
    response = member_client.post(
        reverse("predictions:new"),
        {"model": PRO, "prompt": "a stag at dawn", "switch": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="safety_tolerance"' in html
    assert 'name="num_outputs"' not in html
    assert "a stag at dawn" in html
    assert not Prediction.objects.exists()


def test_a_valid_submission_saves_a_queued_prediction_and_redirects_to_it(member_client, member):
    response = member_client.post(
        reverse("predictions:new"),
        {
            "model": SCHNELL,
            "prompt": "a deer",
            "aspect_ratio": "1:1",
            "num_outputs": "1",
            "megapixels": "1",
            "output_format": "png",
            "output_quality": "80",
            "num_inference_steps": "4",
            "go_fast": "on",
        },
    )
    prediction = Prediction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/predictions/{prediction.pk}/"
    assert prediction.owner == member
    assert prediction.status == Status.QUEUED
    assert prediction.input["output_format"] == "png"
    assert prediction.input["go_fast"] is True
    assert prediction.input["disable_safety_checker"] is False


def test_bad_input_shows_messages_on_the_form_and_saves_nothing(member_client):
    response = member_client.post(
        reverse("predictions:new"),
        {
            "model": SCHNELL,
            "prompt": "",
            "aspect_ratio": "7:1",
            "num_outputs": "12",
            "megapixels": "1",
            "output_format": "png",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html
    assert "Ensure this value is less than or equal to 4." in html
    assert "Select a valid choice." in html
    assert not Prediction.objects.exists()


def test_an_unknown_model_id_gets_a_message_not_an_error_page(member_client):
    response = member_client.post(reverse("predictions:new"), {"model": "acme/nope", "prompt": "x"})
    assert response.status_code == 400
    assert "Unknown model" in response.content.decode()
    assert not Prediction.objects.exists()


def test_history_lists_only_the_members_own_predictions_newest_first(member_client, member, other_member):
    older = make_prediction(member)
    newer = make_prediction(member)
    theirs = make_prediction(other_member)
    html = member_client.get(reverse("predictions:list")).content.decode()
    assert html.index(f"/predictions/{newer.pk}/") < html.index(f"/predictions/{older.pk}/")
    assert f"/predictions/{theirs.pk}/" not in html


def test_history_costs_the_same_number_of_queries_for_one_or_many_rows(
    member_client, member, django_assert_max_num_queries
):
    for _ in range(3):
        add_output(make_prediction(member, status=Status.SUCCEEDED))
    with django_assert_max_num_queries(8) as few:
        member_client.get(reverse("predictions:list"))
    for _ in range(20):
        add_output(make_prediction(member, status=Status.SUCCEEDED))
    with django_assert_max_num_queries(len(few.captured_queries)):
        member_client.get(reverse("predictions:list"))


def test_the_detail_page_shows_status_inputs_and_stored_outputs(member_client, member):
    prediction = make_prediction(member, status=Status.SUCCEEDED, deerapi_id="abc123")
    add_output(prediction)
    html = member_client.get(prediction.get_absolute_url()).content.decode()
    assert 'data-prediction-status="succeeded"' in html
    assert PROMPT in html
    assert "abc123" in html
    assert f'src="/predictions/{prediction.pk}/outputs/0/"' in html
    assert "files.example" not in html, "the provider URL is never shown"


def test_an_unknown_outcome_is_explained_to_the_member(member_client, member):
    prediction = make_prediction(member, status=Status.UNKNOWN, error=pipeline.UNKNOWN_EXPLANATION)
    html = member_client.get(prediction.get_absolute_url()).content.decode()
    assert 'data-prediction-status="unknown"' in html
    assert "Outcome unknown" in html
    assert "not sent again" in html


def test_the_live_part_carries_the_current_status(member_client, member):
    prediction = make_prediction(member, status=Status.PROCESSING)
    response = member_client.get(reverse("predictions:live", args=[prediction.pk]))
    assert response.status_code == 200
    assert 'data-prediction-status="processing"' in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_a_member_gets_404_for_another_members_prediction_and_its_files(client, member, other_member):
    prediction = make_prediction(other_member, status=Status.SUCCEEDED)
    add_output(prediction)
    client.force_login(member)
    for name in ("predictions:detail", "predictions:live"):
        assert client.get(reverse(name, args=[prediction.pk])).status_code == 404
    assert client.get(reverse("predictions:output", args=[prediction.pk, 0])).status_code == 404
    assert client.get(reverse("predictions:thumbnail", args=[prediction.pk, 0])).status_code == 404
    assert client.post(reverse("predictions:cancel", args=[prediction.pk])).status_code == 404


def test_a_reviewer_can_see_every_members_prediction_without_being_staff(client, member, reviewer):
    prediction = make_prediction(member, status=Status.SUCCEEDED)
    add_output(prediction)
    assert not reviewer.is_staff
    client.force_login(reviewer)
    assert client.get(prediction.get_absolute_url()).status_code == 200
    assert client.get(reverse("predictions:output", args=[prediction.pk, 0])).status_code == 200


def test_stored_files_are_served_with_our_content_type_and_no_script(member_client, member):
    prediction = make_prediction(member, status=Status.SUCCEEDED)
    add_output(prediction)
    response = member_client.get(reverse("predictions:output", args=[prediction.pk, 0]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    download = member_client.get(reverse("predictions:output", args=[prediction.pk, 0]) + "?download=1")
    assert download["Content-Disposition"].startswith("attachment;")
    assert f"deerweb-{prediction.pk}-1.png" in download["Content-Disposition"]


def test_a_missing_output_index_is_404(member_client, member):
    prediction = make_prediction(member, status=Status.SUCCEEDED)
    assert member_client.get(reverse("predictions:output", args=[prediction.pk, 3])).status_code == 404


def test_a_queued_prediction_can_be_canceled_by_its_owner(member_client, member):
    prediction = make_prediction(member)
    response = member_client.post(reverse("predictions:cancel", args=[prediction.pk]))
    assert response.status_code == 302
    prediction.refresh_from_db()
    assert prediction.status == Status.CANCELED


def test_every_page_shows_the_sandbox_banner_without_a_key(member_client, settings):
    settings.SANDBOX = True
    assert "data-sandbox" in member_client.get(reverse("predictions:list")).content.decode()
    settings.SANDBOX = False
    assert "data-sandbox" not in member_client.get(reverse("predictions:list")).content.decode()


@pytest.mark.parametrize(
    ("size", "language", "shown"),
    [
        (924, "en", "an uploaded image (924\xa0bytes)"),
        (1000, "en", "an uploaded image (1000\xa0bytes)"),
        (3000, "en", "an uploaded image (2.9\xa0KB)"),
        (924, "zh-hans", "一张上传的图片（924\xa0字节）"),
    ],
)
def test_an_uploaded_input_image_is_shown_with_its_size(member_client, member, size, language, shown):
    # 1000 bytes end in base64 padding ("=="), 924 and 3000 do not.
    data_url = "data:image/png;base64," + base64.b64encode(b"\x89" * size).decode("ascii")
    prediction = make_prediction(member, input={"prompt": PROMPT, "input_image": data_url})
    html = member_client.get(prediction.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert shown in html
    assert "base64" not in html
