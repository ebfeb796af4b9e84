"""Grid tiles (history grid, team gallery, a prompt's predictions): the thumbnail and the stored
image in a `srcset` by width, and a size limit so a small image is never stretched."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from predictions.models import PredictionOutput, ReviewState
from predictions.storing import THUMBNAIL_SIZE
from predictions.templatetags.thumbnails import thumbnail_size
from tests.world import finished_prediction

pytestmark = pytest.mark.django_db
GRID_SIZES = "auto, (max-width: 26.7rem) calc(100vw - 2rem), (max-width: 40rem) calc(50vw - 1.4rem), 14rem"
GALLERY_SIZES = "auto, (max-width: 40rem) calc(100vw - 2rem), 22rem"


def tile(html: str, pk: int) -> str:
    """The <img> of prediction `pk`'s first output."""
    match = re.search(rf'<img src="/predictions/{pk}/outputs/0/thumbnail/"[^>]*>', html)
    assert match, f"no tile for prediction {pk}"
    return match.group(0)


@pytest.mark.parametrize("size", [(1024, 1024), (1024, 768), (768, 1344), (384, 384), (300, 200), (4000, 90)])
def test_the_thumbnail_size_is_the_one_the_pipeline_makes(size):
    image = Image.new("RGB", size)
    image.thumbnail(THUMBNAIL_SIZE)
    assert thumbnail_size(*size) == image.size


def test_a_history_grid_tile_offers_the_thumbnail_and_the_stored_image_by_their_shorter_side(member_client, member):
    prediction = finished_prediction(member, size=(1024, 768))
    html = member_client.get("/predictions/", {"view": "grid"}).content.decode()
    img = tile(html, prediction.pk)
    base = f"/predictions/{prediction.pk}/outputs/0/"
    assert f'srcset="{base}thumbnail/ 288w, {base} 768w"' in img
    assert f'sizes="{GRID_SIZES}"' in img
    assert 'width="768" height="768"' in img, "never wider than the larger source"


def test_a_gallery_tile_offers_the_thumbnail_and_the_stored_image(member_client, member, other_member):
    prediction = finished_prediction(other_member, size=(1024, 1024), review_state=ReviewState.APPROVED)
    img = tile(member_client.get("/gallery/").content.decode(), prediction.pk)
    base = f"/predictions/{prediction.pk}/outputs/0/"
    assert f'srcset="{base}thumbnail/ 384w, {base} 1024w"' in img
    assert f'sizes="{GALLERY_SIZES}"' in img
    assert 'width="1024" height="1024"' in img


def test_a_prompts_predictions_offer_the_thumbnail_and_the_stored_image(member_client, member):
    prediction = finished_prediction(member, size=(1024, 1024))
    img = tile(member_client.get(f"/prompts/{prediction.prompt_id}/").content.decode(), prediction.pk)
    assert f'/predictions/{prediction.pk}/outputs/0/ 1024w"' in img and f'sizes="{GRID_SIZES}"' in img


def test_an_image_no_larger_than_its_thumbnail_is_one_source_shown_at_most_at_its_own_size(member_client, member):
    prediction = finished_prediction(member, size=(300, 200))
    img = tile(member_client.get("/predictions/", {"view": "grid"}).content.decode(), prediction.pk)
    assert "srcset" not in img
    assert 'width="200" height="200"' in img


def test_an_svg_tile_is_one_source_that_fills_its_column(member_client, member):
    prediction = finished_prediction(member)
    PredictionOutput.objects.filter(prediction=prediction).update(
        content_type="image/svg+xml", width=None, height=None, thumbnail=""
    )
    img = tile(member_client.get("/predictions/", {"view": "grid"}).content.decode(), prediction.pk)
    assert "srcset" not in img and "width=" not in img
    assert 'class="scalable"' in img
