"""Stored files behind nginx: with DEERWEB_FILE_ACCEL_PREFIX, DeerWeb checks permission
and hands the sending to nginx with X-Accel-Redirect, keeping its own headers."""

import pytest

from billing import services as billing
from tests.world import FILE_POLICY, add_output, load_settings, make_prediction, stored_image

pytestmark = pytest.mark.django_db

PREFIX = "/protected-media/"


@pytest.fixture
def accel(settings):
    settings.FILE_ACCEL_PREFIX = PREFIX
    return PREFIX


def test_an_output_is_handed_to_nginx_with_our_type_name_and_policy(accel, member_client, member):
    prediction = make_prediction(member)
    output = add_output(prediction)
    response = member_client.get(f"/predictions/{prediction.pk}/outputs/0/")
    assert response.status_code == 200
    assert response.content == b""
    assert response["X-Accel-Redirect"] == PREFIX + output.file.name
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'inline; filename="deerweb-{prediction.pk}-1.png"'
    assert response["Content-Security-Policy"] == FILE_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, max-age=86400"


def test_a_download_without_embedded_metadata_is_handed_to_nginx_as_an_attachment(
    accel, member_client, member, admin_user
):
    billing.team_settings_update({"embed_download_metadata": False}, by=admin_user)
    prediction = make_prediction(member)
    add_output(prediction)
    response = member_client.get(f"/predictions/{prediction.pk}/outputs/0/?download=1")
    assert response["Content-Disposition"] == f'attachment; filename="deerweb-{prediction.pk}-1.png"'
    assert response.content == b""


def test_a_download_with_embedded_metadata_is_sent_by_deerweb_with_its_policy(accel, member_client, member):
    prediction = make_prediction(member)
    add_output(prediction)
    response = member_client.get(f"/predictions/{prediction.pk}/outputs/0/?download=1")
    assert not response.has_header("X-Accel-Redirect")
    assert response["Content-Disposition"] == f'attachment; filename="deerweb-{prediction.pk}-1.png"'
    assert response["Content-Security-Policy"] == FILE_POLICY
    assert response.content.startswith(b"\x89PNG")


def test_a_thumbnail_is_handed_to_nginx_as_webp(accel, member_client, member):
    prediction = make_prediction(member)
    output = add_output(prediction)
    response = member_client.get(f"/predictions/{prediction.pk}/outputs/0/thumbnail/")
    assert response["X-Accel-Redirect"] == PREFIX + output.thumbnail.name
    assert response["Content-Type"] == "image/webp"


def test_the_type_is_ours_even_when_the_stored_name_says_otherwise(accel, member_client, member):
    prediction = make_prediction(member)
    output = add_output(prediction)
    type(output).objects.filter(pk=output.pk).update(content_type="image/jpeg")
    response = member_client.get(f"/predictions/{prediction.pk}/outputs/0/")
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Accel-Redirect"].endswith(".png")


def test_another_member_gets_404_and_no_redirect_header(accel, client, member, other_member):
    prediction = make_prediction(member, is_private=True)
    add_output(prediction)
    client.force_login(other_member)
    response = client.get(f"/predictions/{prediction.pk}/outputs/0/")
    assert response.status_code == 404
    assert "X-Accel-Redirect" not in response


def test_an_anonymous_visitor_gets_no_redirect_header(accel, client, member):
    prediction = make_prediction(member)
    add_output(prediction)
    response = client.get(f"/predictions/{prediction.pk}/outputs/0/")
    assert response.status_code == 302
    assert "X-Accel-Redirect" not in response


def test_an_input_image_is_handed_to_nginx_with_its_headers(accel, client, member):
    image, _ = stored_image(member)
    response = client.get(f"/inputs/{image.token}/")
    assert response.status_code == 200
    assert response.content == b""
    assert response["X-Accel-Redirect"] == PREFIX + image.file.name
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["X-Robots-Tag"] == "noindex"


def test_names_are_escaped_in_the_redirect(accel, client, member):
    image, _ = stored_image(member)
    type(image).objects.filter(pk=image.pk).update(file="inputs/2026/11/a deer?.jpg")
    response = client.get(f"/inputs/{image.token}/")
    assert response["X-Accel-Redirect"] == PREFIX + "inputs/2026/11/a%20deer%3F.jpg"


def test_without_a_prefix_deerweb_sends_the_bytes_itself(settings, member_client, member):
    settings.FILE_ACCEL_PREFIX = ""
    prediction = make_prediction(member)
    output = add_output(prediction)
    response = member_client.get(f"/predictions/{prediction.pk}/outputs/0/")
    assert "X-Accel-Redirect" not in response
    assert b"".join(response.streaming_content) == output.file.open("rb").read()
    assert response["Content-Security-Policy"] == FILE_POLICY


def test_a_missing_file_is_404_when_deerweb_sends_it(settings, member_client, member):
    settings.FILE_ACCEL_PREFIX = ""
    prediction = make_prediction(member)
    output = add_output(prediction)
    output.file.storage.delete(output.file.name)
    assert member_client.get(f"/predictions/{prediction.pk}/outputs/0/").status_code == 404


@pytest.mark.parametrize("value", ["protected-media/", "/protected-media", "x"])
def test_a_prefix_that_is_not_a_path_stops_start_up(value):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, DEERWEB_FILE_ACCEL_PREFIX=value)
    assert result.returncode != 0
    assert "DEERWEB_FILE_ACCEL_PREFIX" in result.stderr
