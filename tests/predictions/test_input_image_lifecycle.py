"""Uploaded input images belong to the predictions made with them: reused ("Edit and run",
"Run again") as copies of the new owner's, deleted with the prediction's files, and removed
when no prediction was ever made with them."""

import importlib
import re
from datetime import timedelta
from html import unescape

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from predictions import tasks, uploads
from predictions.models import InputImage, Prediction, ReviewState
from reviews import services as reviews
from tests.world import KONTEXT, ended, made_with_upload, stored_image, submit

pytestmark = pytest.mark.django_db
NEW = reverse("predictions:new")


def edit_and_run(client, user, source: Prediction) -> tuple[str, dict[str, str]]:
    """The "Edit and run" form `user` gets for `source`: its image field's value and the fields to post."""
    client.force_login(user)
    html = client.get(f"{NEW}?from={source.pk}").content.decode()
    value = unescape(re.search(r'<input type="url"[^>]*name="input_image" value="([^"]*)"', html).group(1))
    post = {
        "model": KONTEXT,
        "prompt": "make it green",
        "aspect_ratio": "1:1",
        "output_format": "png",
        "safety_tolerance": "2",
        "input_image": value,
        "source": str(source.pk),
    }
    return value, post


def test_a_prediction_made_with_uploads_is_linked_to_them(client, member, public_uploads):
    prediction = made_with_upload(client, member)
    image = InputImage.objects.get()
    assert list(prediction.input_images.all()) == [image]
    assert prediction.input["input_image"] == f"{public_uploads}/inputs/{image.token}/"


def test_edit_and_run_of_a_teammates_image_copies_it_for_the_new_owner(client, member, other_member, public_uploads):
    source = ended(made_with_upload(client, member), review_state=ReviewState.APPROVED)
    original = source.input_images.get()
    value, post = edit_and_run(client, other_member, source)
    assert value == f"{public_uploads}/predictions/{source.pk}/inputs/{original.pk}/"

    response = client.post(NEW, post)

    assert response.status_code == 302
    mine = Prediction.objects.get(owner=other_member)
    copy = mine.input_images.get()
    assert copy.owner == other_member and copy.pk != original.pk
    assert copy.file.open("rb").read() == original.file.open("rb").read()
    assert mine.input["input_image"] == f"{public_uploads}/inputs/{copy.token}/"
    assert client.get(f"/inputs/{copy.token}/").status_code == 200, "DeerAPI can fetch the copy"
    assert client.get(f"/inputs/{original.token}/").status_code == 404


def test_edit_and_run_refuses_an_image_the_member_may_not_see(client, member, other_member, public_uploads):
    source = ended(made_with_upload(client, member), review_state=ReviewState.APPROVED)
    _value, post = edit_and_run(client, other_member, source)
    Prediction.objects.filter(pk=source.pk).update(is_private=True)
    post["source"] = ""

    response = client.post(NEW, post)

    assert response.status_code == 400
    assert "This uploaded image is no longer available" in response.content.decode()
    assert not Prediction.objects.filter(owner=other_member).exists()
    assert InputImage.objects.count() == 1


def test_a_public_url_of_an_image_the_member_may_not_see_is_refused(client, member, other_member, public_uploads):
    source = made_with_upload(client, member)
    _value, post = edit_and_run(client, member, source)
    post.update(input_image=source.input["input_image"], source="")
    client.force_login(other_member)
    assert client.post(NEW, post).status_code == 400
    assert InputImage.objects.count() == 1


def test_run_again_copies_the_image_so_deerapi_can_fetch_it_for_the_new_prediction(
    client, member, other_member, public_uploads
):
    source = ended(made_with_upload(client, member), review_state=ReviewState.APPROVED)
    original = source.input_images.get()
    client.force_login(other_member)

    client.post(reverse("predictions:rerun", args=[source.pk]))

    again = Prediction.objects.get(owner=other_member)
    copy = again.input_images.get()
    assert copy.owner == other_member
    assert again.input["input_image"] == f"{public_uploads}/inputs/{copy.token}/"
    assert client.get(f"/inputs/{copy.token}/").status_code == 200
    assert client.get(f"/inputs/{original.token}/").status_code == 404


def test_run_again_of_a_prediction_whose_image_is_gone_says_so_and_makes_nothing(client, member, public_uploads):
    source = ended(made_with_upload(client, member))
    InputImage.objects.all().delete()
    client.force_login(member)

    response = client.post(reverse("predictions:rerun", args=[source.pk]), follow=True)

    assert "This uploaded image is no longer available" in response.content.decode()
    assert Prediction.objects.count() == 1


def test_deleting_a_predictions_files_deletes_its_uploaded_images(
    client, member, reviewer, public_uploads, django_capture_on_commit_callbacks
):
    prediction = ended(made_with_upload(client, member), review_state=ReviewState.REJECTED)
    image = prediction.input_images.get()
    name = image.file.name
    assert default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        assert reviews.prediction_files_delete(prediction, by=reviewer)

    assert not InputImage.objects.exists()
    assert not default_storage.exists(name)
    client.force_login(member)
    assert client.get(reverse("predictions:input", args=[prediction.pk, image.pk])).status_code == 404


def test_an_image_another_prediction_still_shows_is_kept_when_one_deletes_its_files(
    member, reviewer, django_capture_on_commit_callbacks
):
    image, _data = stored_image(member)
    kept = Prediction.objects.get(input_images=image)
    rejected = ended(
        submit(member, KONTEXT, prompt="again"),
        review_state=ReviewState.REJECTED,
    )
    uploads.input_images_link(rejected, [image])

    with django_capture_on_commit_callbacks(execute=True):
        reviews.prediction_files_delete(rejected, by=reviewer)

    assert list(image.predictions.all()) == [kept]
    assert default_storage.exists(image.file.name)


def test_uploads_no_prediction_was_made_with_are_removed_after_a_day(member, django_capture_on_commit_callbacks):
    old_orphan, _data = stored_image(member, used=False)
    new_orphan, _data = stored_image(member, used=False)
    used, _data = stored_image(member)
    InputImage.objects.filter(pk__in=[old_orphan.pk, used.pk]).update(created_at=timezone.now() - timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.input_images_purge()

    assert set(InputImage.objects.values_list("pk", flat=True)) == {new_orphan.pk, used.pk}
    assert not default_storage.exists(old_orphan.file.name)
    assert default_storage.exists(new_orphan.file.name)


def test_beat_removes_orphan_uploads_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-orphan-input-images"]
    assert entry["task"] == tasks.input_images_purge.name
    assert entry["schedule"] == 3600.0


def test_the_migration_links_existing_uploads_to_the_predictions_whose_input_names_them(member):
    image, _data = stored_image(member, used=False)
    other, _data = stored_image(member, used=False)
    url = f"https://deerweb.example.com/inputs/{image.token}/"
    using = submit(member, KONTEXT, prompt="x", input_image=url)
    submit(member, KONTEXT, prompt="y")
    migration = importlib.import_module("predictions.migrations.0007_input_image_predictions")

    migration.link_by_token(apps, None)
    migration.link_by_token(apps, None)  # twice: nothing doubles

    assert list(image.predictions.all()) == [using]
    assert not other.predictions.exists()
    assert InputImage.predictions.through.objects.count() == 1
