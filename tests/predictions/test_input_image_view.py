"""Uploaded input images: /inputs/<token>/ answers DeerAPI (no login) only while DeerAPI may
need the image; people see it at /predictions/<id>/inputs/<image>/ under the prediction's
permissions, and no page shows the public URL."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from predictions import uploads
from predictions.models import Prediction, ReviewState, Status
from tests.world import KONTEXT, ended, load_settings, made_with_upload, stored_image, submit

pytestmark = pytest.mark.django_db


# --- The public URL ------------------------------------------------------------------------------


def test_deerapi_gets_the_image_by_its_token_with_safe_headers_while_it_may_fetch_it(client, member):
    image, data = stored_image(member)
    response = client.get(f"/inputs/{image.token}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("status", [Status.STORING, Status.SUCCEEDED, Status.FAILED, Status.CANCELED])
def test_the_token_stops_answering_once_deerapi_is_done_with_the_prediction(client, member, status):
    image, _data = stored_image(member)
    Prediction.objects.filter(input_images=image).update(status=status)
    assert client.get(f"/inputs/{image.token}/").status_code == 404


@pytest.mark.parametrize("status", [Status.SUBMITTING, Status.STARTING, Status.PROCESSING, Status.UNKNOWN])
def test_the_token_answers_while_the_prediction_may_be_at_deerapi(client, member, status):
    image, _data = stored_image(member)
    Prediction.objects.filter(input_images=image).update(status=status)
    assert client.get(f"/inputs/{image.token}/").status_code == 200


def test_the_token_stops_answering_a_few_hours_after_the_upload_even_while_running(client, member, settings):
    image, _data = stored_image(member)
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.INPUT_URL_TTL - 60)):
        assert client.get(f"/inputs/{image.token}/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.INPUT_URL_TTL + 1)):
        assert client.get(f"/inputs/{image.token}/").status_code == 404


def test_a_private_or_rejected_prediction_that_ended_no_longer_serves_its_image(client, member):
    image, _data = stored_image(member)
    prediction = ended(Prediction.objects.get(input_images=image), is_private=True, review_state=ReviewState.REJECTED)
    assert client.get(f"/inputs/{image.token}/").status_code == 404
    client.force_login(member)
    assert client.get(reverse("predictions:input", args=[prediction.pk, image.pk])).status_code == 200


def test_an_upload_no_prediction_was_made_with_has_no_public_url(client, member):
    image, _data = stored_image(member, used=False)
    assert client.get(f"/inputs/{image.token}/").status_code == 404


def test_an_unknown_token_is_404(client, member):
    stored_image(member)
    assert client.get(f"/inputs/{uuid.uuid4()}/").status_code == 404
    assert client.get("/inputs/1/").status_code == 404


def test_the_public_url_is_built_from_deerwebs_public_address(member, settings):
    settings.PUBLIC_URL = "https://deerweb.example.com"
    image, data = stored_image(member)
    image.size = uploads.INLINE_MAX_BYTES + 1
    assert uploads.input_image_url(image, data) == f"https://deerweb.example.com/inputs/{image.token}/"


def test_how_long_the_public_url_may_answer_is_a_setting_checked_at_start_up():
    for value in ("soon", "30"):
        result = load_settings(DJANGO_SECRET_KEY="k" * 50, DEERWEB_INPUT_URL_TTL=value)
        assert result.returncode != 0 and "DEERWEB_INPUT_URL_TTL" in result.stderr
    shorter = load_settings(DJANGO_SECRET_KEY="k" * 50, DEERWEB_INPUT_URL_TTL="600", DEERWEB_PREDICTION_TIMEOUT="900")
    assert shorter.returncode != 0 and "DEERWEB_INPUT_URL_TTL" in shorter.stderr
    assert load_settings(DJANGO_SECRET_KEY="k" * 50, DEERWEB_INPUT_URL_TTL="7200").returncode == 0


# --- The link on pages, under the prediction's permissions ------------------------------------------


def test_the_owner_a_reviewer_and_an_admin_see_the_image_a_teammate_and_a_visitor_do_not(
    client, member, other_member, reviewer, admin_user
):
    image, data = stored_image(member)
    prediction = Prediction.objects.get(input_images=image)
    url = reverse("predictions:input", args=[prediction.pk, image.pk])
    assert client.get(url)["Location"].startswith("/accounts/login/")
    for user, status in ((member, 200), (reviewer, 200), (admin_user, 200), (other_member, 404)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert b"".join(response.streaming_content) == data
            assert response["Cache-Control"] == "private, max-age=3600"
            assert "sandbox" in response["Content-Security-Policy"]


def test_a_teammate_sees_the_image_of_a_shared_prediction_but_not_once_it_is_private(client, member, other_member):
    image, _data = stored_image(member)
    prediction = ended(Prediction.objects.get(input_images=image), review_state=ReviewState.APPROVED)
    url = reverse("predictions:input", args=[prediction.pk, image.pk])
    client.force_login(other_member)
    assert client.get(url).status_code == 200
    Prediction.objects.filter(pk=prediction.pk).update(is_private=True)
    assert client.get(url).status_code == 404


def test_the_link_needs_the_prediction_that_used_the_image(client, member, other_member):
    image, _data = stored_image(member)
    shared = ended(
        submit(member, KONTEXT, prompt="another"),
        review_state=ReviewState.APPROVED,
    )
    client.force_login(other_member)
    assert client.get(reverse("predictions:input", args=[shared.pk, image.pk])).status_code == 404


def test_no_page_shows_the_public_url_and_the_detail_page_links_the_image(
    client, public_uploads, member, other_member, reviewer, admin_user
):
    prediction = ended(made_with_upload(client, member), review_state=ReviewState.APPROVED)
    image = prediction.input_images.get()
    assert prediction.input["input_image"] == f"{public_uploads}/inputs/{image.token}/"
    link = reverse("predictions:input", args=[prediction.pk, image.pk])
    pages = [
        prediction.get_absolute_url(),
        reverse("gallery:detail", args=[prediction.pk]),
        f"{reverse('predictions:new')}?from={prediction.pk}",
    ]
    for user in (member, other_member, reviewer, admin_user):
        client.force_login(user)
        for url in [*pages, *([f"/admin/predictions/prediction/{prediction.pk}/change/"] if user.is_staff else [])]:
            html = client.get(url).content.decode()
            assert str(image.token) not in html, (user, url)
            assert link in html, (user, url)
