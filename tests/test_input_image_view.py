"""/inputs/<token>/: uploaded input images, fetched by DeerAPI without logging in."""

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from predictions import uploads
from predictions.models import InputImage

pytestmark = pytest.mark.django_db


def stored_image(owner) -> tuple[InputImage, bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 9), "blue").save(buffer, "JPEG")
    data = buffer.getvalue()
    image = uploads.input_image_store(owner, uploads.image_check(ContentFile(data, name="deer.jpg")))
    return image, data


def test_anyone_with_the_token_gets_the_image_with_safe_headers(client, member):
    image, data = stored_image(member)
    response = client.get(f"/inputs/{image.token}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Robots-Tag"] == "noindex"


def test_an_unknown_token_is_404(client, member):
    stored_image(member)
    assert client.get(f"/inputs/{uuid.uuid4()}/").status_code == 404
    assert client.get("/inputs/1/").status_code == 404


def test_the_public_url_is_built_from_deerwebs_public_address(member, settings):
    settings.PUBLIC_URL = "https://deerweb.example.com"
    image, data = stored_image(member)
    image.size = uploads.INLINE_MAX_BYTES + 1
    assert uploads.input_image_url(image, data) == f"https://deerweb.example.com/inputs/{image.token}/"
