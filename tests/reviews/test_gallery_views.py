"""The team gallery: what it shows, to whom, and the owner's privacy toggle."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from predictions.models import ReviewState
from reviews import services as reviews
from tests.world import PRO, SCHNELL, finished_prediction

pytestmark = pytest.mark.django_db
APPROVED = {"review_state": ReviewState.APPROVED}


def tiles(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/gallery/(\d+)/"', html)]


def test_the_gallery_shows_approved_work_of_every_member_newest_first(member_client, member, other_member):
    now = timezone.now()
    mine = finished_prediction(member, created_at=now - timedelta(hours=1), **APPROVED)
    theirs = finished_prediction(other_member, created_at=now, prompt="a stag by a lake", **APPROVED)

    html = member_client.get(reverse("gallery:list")).content.decode()

    assert tiles(html) == [theirs.pk, mine.pk]
    assert "a stag by a lake" in html and "bob" in html
    assert f'src="/predictions/{theirs.pk}/outputs/0/thumbnail/"' in html


def test_pending_rejected_and_private_predictions_never_appear(member_client, member, other_member):
    shown = finished_prediction(other_member, **APPROVED)
    finished_prediction(other_member)
    finished_prediction(other_member, review_state=ReviewState.REJECTED, review_reason="no")
    finished_prediction(other_member, is_private=True, **APPROVED)
    finished_prediction(member, is_private=True, **APPROVED)

    assert tiles(member_client.get(reverse("gallery:list")).content.decode()) == [shown.pk]


def test_the_gallery_filters_by_model_and_by_member(member_client, member, other_member):
    alice_schnell = finished_prediction(member, model_id=SCHNELL, **APPROVED)
    bob_pro = finished_prediction(other_member, model_id=PRO, **APPROVED)
    gallery = reverse("gallery:list")

    assert tiles(member_client.get(gallery, {"model": PRO}).content.decode()) == [bob_pro.pk]
    assert tiles(member_client.get(gallery, {"member": member.pk}).content.decode()) == [alice_schnell.pk]
    bad = member_client.get(gallery, {"member": "nobody"})
    assert bad.status_code == 400 and 'class="error"' in bad.content.decode()


def test_the_gallery_pages_by_keyset(member_client, member):
    start = timezone.now() - timedelta(hours=1)
    shown = [finished_prediction(member, created_at=start + timedelta(seconds=i), **APPROVED) for i in range(32)]
    first = member_client.get(reverse("gallery:list")).content.decode()
    assert tiles(first) == [p.pk for p in reversed(shown[2:])]
    after = re.search(r'after=(\d+)" rel="next"', first).group(1)
    second = member_client.get(reverse("gallery:list"), {"after": after}).content.decode()
    assert tiles(second) == [shown[1].pk, shown[0].pk]


def test_the_gallery_costs_the_same_number_of_queries_for_few_or_many_images(
    member_client, member, other_member, django_assert_max_num_queries
):
    for _ in range(2):
        finished_prediction(other_member, outputs=2, **APPROVED)
    with django_assert_max_num_queries(15) as few:
        member_client.get(reverse("gallery:list"))
    for _ in range(25):
        finished_prediction(other_member, outputs=2, **APPROVED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        member_client.get(reverse("gallery:list"))


def test_a_gallery_item_shows_its_inputs_and_links_to_edit_and_run(member_client, other_member):
    prediction = finished_prediction(other_member, prompt="a fawn in fog", outputs=2, **APPROVED)

    response = member_client.get(reverse("gallery:detail", args=[prediction.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "a fawn in fog" in html
    assert "<code>seed</code>" in html and "<td>7</td>" in html
    assert f'href="/predictions/new/?from={prediction.pk}"' in html
    assert f'href="/predictions/{prediction.pk}/"' in html
    assert f'src="/predictions/{prediction.pk}/outputs/1/"' in html


def test_a_teammate_reads_a_shared_prediction_and_its_images_but_cannot_act_on_it(member_client, other_member):
    prediction = finished_prediction(other_member, **APPROVED)

    detail = member_client.get(prediction.get_absolute_url())
    assert detail.status_code == 200
    assert reverse("gallery:private", args=[prediction.pk]) not in detail.content.decode()
    assert member_client.get(reverse("predictions:output", args=[prediction.pk, 0])).status_code == 200
    assert member_client.post(reverse("gallery:private", args=[prediction.pk]), {"private": "1"}).status_code == 404
    prediction.refresh_from_db()
    assert not prediction.is_private


def test_once_private_a_shared_prediction_leaves_the_gallery_and_teammates_lose_its_images(
    client, member, other_member
):
    prediction = finished_prediction(member, **APPROVED)
    client.force_login(member)

    response = client.post(reverse("gallery:private", args=[prediction.pk]), {"private": "1"}, follow=True)

    assert "never appears in the team gallery" in response.content.decode()
    client.force_login(other_member)
    assert tiles(client.get(reverse("gallery:list")).content.decode()) == []
    assert client.get(reverse("gallery:detail", args=[prediction.pk])).status_code == 404
    assert client.get(prediction.get_absolute_url()).status_code == 404
    assert client.get(reverse("predictions:output", args=[prediction.pk, 0])).status_code == 404


def test_a_member_can_make_a_prediction_private_before_review_and_share_it_again(member_client, member, reviewer):
    prediction = finished_prediction(member)
    member_client.post(reverse("gallery:private", args=[prediction.pk]), {"private": "1"})
    reviews.review_approve(prediction, by=reviewer)
    assert tiles(member_client.get(reverse("gallery:list")).content.decode()) == []

    member_client.post(reverse("gallery:private", args=[prediction.pk]), {"private": "0"})

    assert tiles(member_client.get(reverse("gallery:list")).content.decode()) == [prediction.pk]


def test_a_rejected_prediction_leaves_the_gallery(member_client, other_member, admin_user):
    prediction = finished_prediction(other_member, **APPROVED)
    reviews.review_reject(prediction, by=admin_user, reason="Against the team's guidelines", revise=True)
    assert tiles(member_client.get(reverse("gallery:list")).content.decode()) == []
    assert member_client.get(reverse("predictions:output", args=[prediction.pk, 0])).status_code == 404


def test_a_teammate_can_edit_and_run_a_gallery_item_but_not_an_unshared_one(member_client, other_member):
    shared = finished_prediction(other_member, prompt="a heron in the reeds", **APPROVED)
    unshared = finished_prediction(other_member, prompt="a secret sketch")

    form = member_client.get(reverse("predictions:new"), {"from": shared.pk})

    assert form.status_code == 200
    assert "a heron in the reeds" in form.content.decode()
    assert member_client.get(reverse("predictions:new"), {"from": unshared.pk}).status_code == 404


def test_a_gallery_card_shown_again_follows_a_renamed_member_and_links_back_to_its_own_page(
    member_client, member, other_member
):
    """Cards come from the cache (common/rows.py): the key holds what a card shows, and the page's
    address, which its "Add to a collection" link returns to."""
    card = finished_prediction(other_member, prompt="a stag by a lake", **APPROVED)
    assert "bob" in member_client.get(reverse("gallery:list")).content.decode()
    other_member.username = "roberta"
    other_member.save(update_fields=["username"])
    html = member_client.get(reverse("gallery:list")).content.decode()
    assert "roberta" in html and ">bob " not in html
    assert f"?id={card.pk}&amp;next=/gallery/" in html
    html = member_client.get(reverse("gallery:list"), {"model": SCHNELL}).content.decode()
    assert f"?id={card.pk}&amp;next=/gallery/%3Fmodel%3D" in html
