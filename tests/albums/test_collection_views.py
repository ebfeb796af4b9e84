"""Collections: making them, adding outputs (one, several, from a selection), what each member
sees in a team collection, owner-only changes, and constant query counts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from albums.models import Collection, CollectionItem, Visibility
from predictions.models import ReviewState
from tests.world import collection_of, finished_prediction

pytestmark = pytest.mark.django_db


def tile_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'name="item" value="(\d+)"', html)]


def test_a_member_creates_a_collection_and_lands_on_it(member_client, member):
    response = member_client.post(reverse("collections:list"), {"name": "Deer at dusk", "visibility": "team"})
    collection = Collection.objects.get(owner=member)
    assert response.status_code == 302 and response["Location"] == collection.get_absolute_url()
    assert (collection.name, collection.visibility) == ("Deer at dusk", Visibility.TEAM)


def test_a_second_collection_of_the_same_name_gets_a_message(member_client, member):
    collection_of(member, name="Deer")
    response = member_client.post(reverse("collections:list"), {"name": "Deer", "visibility": "private"})
    assert response.status_code == 400
    assert "already have a collection named" in response.content.decode()


def test_adding_one_output_from_a_predictions_page_puts_it_in_the_chosen_collection(member_client, member):
    prediction = finished_prediction(member, outputs=2)
    collection = collection_of(member)
    second = prediction.outputs.get(index=1)
    page = member_client.get(prediction.get_absolute_url()).content.decode()
    assert "Add to a collection" in page and f'value="{second.pk}"' in page
    response = member_client.post(
        reverse("collections:add"),
        {"output": [second.pk], "collection": collection.pk, "add": "1", "next": prediction.get_absolute_url()},
    )
    assert response.status_code == 302 and response["Location"] == prediction.get_absolute_url()
    assert list(collection.items.values_list("output_id", flat=True)) == [second.pk]


def test_adding_with_a_new_name_makes_the_collection(member_client, member):
    prediction = finished_prediction(member, outputs=1)
    member_client.post(reverse("collections:add"), {"id": [prediction.pk], "new_name": "Fresh", "add": "1"})
    assert Collection.objects.get(owner=member, name="Fresh").items.count() == 1


def test_bulk_add_from_the_history_shows_the_choice_then_adds_every_output(member_client, member):
    first, second = finished_prediction(member, outputs=2), finished_prediction(member, outputs=1)
    collection = collection_of(member)
    choice = member_client.get(reverse("collections:add"), {"id": [first.pk, second.pk], "next": "/predictions/"})
    assert choice.status_code == 200 and "3 images chosen." in choice.content.decode()
    response = member_client.post(
        reverse("collections:add"),
        {"id": [first.pk, second.pk], "collection": collection.pk, "add": "1", "next": "/predictions/"},
    )
    assert response["Location"] == "/predictions/"
    assert collection.items.count() == 3
    again = member_client.post(
        reverse("collections:add"), {"id": [first.pk], "collection": collection.pk, "add": "1"}, follow=True
    )
    assert "were in “Favourites” already" in again.content.decode()
    assert collection.items.count() == 3


def test_the_json_answer_lets_the_page_stay(member_client, member):
    prediction = finished_prediction(member, outputs=1)
    collection = collection_of(member)
    response = member_client.post(
        reverse("collections:add"),
        {"id": [prediction.pk], "collection": collection.pk, "add": "1"},
        headers={"accept": "application/json"},
    )
    assert response.json()["message"] == "Added 1 image to “Favourites”."


def test_the_review_queues_selection_leads_to_the_choice(client, reviewer, member):
    prediction = finished_prediction(member, outputs=1)
    client.force_login(reviewer)
    queue = client.get(reverse("review:queue")).content.decode()
    assert "Add selected to collection" in queue
    response = client.post(reverse("collections:add"), {"ids": [prediction.pk], "next": "/review/"})
    assert response.status_code == 200 and "1 image chosen." in response.content.decode()


def test_a_member_cannot_add_an_output_they_may_not_see(member_client, member, other_member):
    hidden = finished_prediction(other_member, outputs=1)
    collection = collection_of(member)
    response = member_client.post(
        reverse("collections:add"), {"id": [hidden.pk], "collection": collection.pk, "add": "1"}
    )
    assert response.status_code == 302
    assert collection.items.count() == 0


def test_a_member_cannot_add_to_another_members_collection(member_client, member, other_member):
    prediction = finished_prediction(member, outputs=1)
    theirs = collection_of(other_member, visibility="team")
    response = member_client.post(
        reverse("collections:add"), {"id": [prediction.pk], "collection": theirs.pk, "add": "1"}
    )
    assert response.status_code == 400
    assert theirs.items.count() == 0


def test_a_team_collection_shows_each_teammate_only_what_they_may_see(client, member, other_member, reviewer):
    approved = finished_prediction(member, outputs=1, review_state=ReviewState.APPROVED)
    pending = finished_prediction(member, outputs=1)
    collection = collection_of(member, approved, pending, visibility="team")
    items = {i.output.prediction_id: i.pk for i in CollectionItem.objects.filter(collection=collection)}

    client.force_login(other_member)
    html = client.get(collection.get_absolute_url()).content.decode()
    assert f"/predictions/{approved.pk}/" in html and f"/predictions/{pending.pk}/" not in html
    assert 'form="remove-items"' not in html  # not the owner
    client.force_login(reviewer)
    html = client.get(collection.get_absolute_url()).content.decode()
    assert f"/predictions/{pending.pk}/" in html
    client.force_login(member)
    assert sorted(tile_ids(client.get(collection.get_absolute_url()).content.decode())) == sorted(items.values())


def test_a_private_collection_is_a_404_for_teammates(client, member, other_member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    client.force_login(other_member)
    assert client.get(collection.get_absolute_url()).status_code == 404
    assert client.get(reverse("collections:download", args=[collection.pk])).status_code == 404
    assert client.post(reverse("collections:edit", args=[collection.pk]), {"name": "x"}).status_code == 404


def test_an_output_made_private_drops_out_for_teammates(client, member, other_member):
    prediction = finished_prediction(member, outputs=1, review_state=ReviewState.APPROVED)
    collection = collection_of(other_member, prediction, visibility="team")
    prediction.is_private = True
    prediction.save(update_fields=["is_private"])
    client.force_login(other_member)
    assert f"/predictions/{prediction.pk}/" not in client.get(collection.get_absolute_url()).content.decode()


def test_the_owner_renames_removes_and_deletes(member_client, member):
    prediction = finished_prediction(member, outputs=2)
    collection = collection_of(member, prediction)
    item = collection.items.first()
    member_client.post(reverse("collections:edit", args=[collection.pk]), {"name": "Renamed", "visibility": "team"})
    collection.refresh_from_db()
    assert (collection.name, collection.visibility) == ("Renamed", "team")
    member_client.post(reverse("collections:remove", args=[collection.pk]), {"item": item.pk})
    assert collection.items.count() == 1
    member_client.post(reverse("collections:delete", args=[collection.pk]), {})
    assert Collection.objects.filter(pk=collection.pk).exists()  # not without the confirmation
    member_client.post(reverse("collections:delete", args=[collection.pk]), {"confirm": "yes"})
    assert not Collection.objects.filter(pk=collection.pk).exists()
    assert prediction.outputs.count() == 2


def test_the_history_grid_has_a_checkbox_per_image_and_both_selection_buttons(member_client, member):
    prediction = finished_prediction(member, outputs=2)
    html = member_client.get(reverse("predictions:list"), {"view": "grid"}).content.decode()
    assert f'aria-label="Select image 2 of prediction {prediction.pk}"' in html
    assert "Download selected (.zip)" in html and "Add selected to collection" in html


def test_the_collection_pages_cost_the_same_queries_for_few_or_many_items(
    member_client, member, other_member, django_assert_max_num_queries
):
    collection = collection_of(member, finished_prediction(member, outputs=1), visibility="team")
    with django_assert_max_num_queries(20) as few_detail:
        member_client.get(collection.get_absolute_url())
    with django_assert_max_num_queries(20) as few_list:
        member_client.get(reverse("collections:list"))
    for _ in range(12):
        collection_of(other_member, name=f"c{_}", visibility="team")
    from albums import services

    services.collection_items_add(
        collection, [o for p in [finished_prediction(member, outputs=3) for _ in range(20)] for o in p.outputs.all()]
    )
    with django_assert_max_num_queries(len(few_detail.captured_queries)):
        html = member_client.get(collection.get_absolute_url()).content.decode()
    assert len(tile_ids(html)) == 48 and 'rel="next"' in html
    with django_assert_max_num_queries(len(few_list.captured_queries)):
        member_client.get(reverse("collections:list"))


def test_a_bad_form_gets_a_message_not_an_error_page(member_client, member):
    collection = collection_of(member)
    assert member_client.post(reverse("collections:list"), {"name": "  "}).status_code == 400
    assert member_client.post(reverse("collections:share", args=[collection.pk]), {"days": "9"}).status_code == 400
    assert member_client.get(reverse("collections:add"), {"id": "x"}).status_code == 302


def test_a_gallery_card_leads_to_the_choice_for_its_prediction(member_client, member, other_member):
    shared = finished_prediction(other_member, outputs=2, review_state=ReviewState.APPROVED)
    html = member_client.get(reverse("gallery:list")).content.decode()
    link = re.search(rf'href="(/collections/add/\?id={shared.pk}&amp;next=[^"]+)"', html).group(1)
    choice = member_client.get(link.replace("&amp;", "&"))
    assert choice.status_code == 200 and "2 images chosen." in choice.content.decode()


def test_a_full_collection_refuses_more_and_a_new_one_is_not_left_behind(member_client, member, monkeypatch):
    from albums import services

    monkeypatch.setattr(services, "COLLECTION_MAX", 2)
    prediction = finished_prediction(member, outputs=3)
    response = member_client.post(reverse("collections:add"), {"id": [prediction.pk], "new_name": "Big", "add": "1"})
    assert response.status_code == 400
    assert "A collection holds at most 2 images" in response.content.decode()
    assert not Collection.objects.filter(name="Big").exists()


def test_a_tile_shown_again_follows_its_prompt_and_thumbnail_and_who_is_looking(client, member, other_member):
    """Tiles come from the cache (common/rows.py): the key holds what a tile shows, and the page's
    owner flag (only the owner's tiles have a Remove button)."""
    prediction = finished_prediction(member, outputs=1, review_state=ReviewState.APPROVED, prompt="a stag at dusk")
    collection = collection_of(member, prediction, visibility="team")
    client.force_login(member)
    assert 'form="remove-items"' in client.get(collection.get_absolute_url()).content.decode()
    client.force_login(other_member)
    html = client.get(collection.get_absolute_url()).content.decode()
    assert "a stag at dusk" in html and 'form="remove-items"' not in html
    prediction.prompt.text = "a doe at dawn"
    prediction.prompt.save(update_fields=["text"])
    prediction.outputs.update(thumbnail="")  # the thumbnail is not made yet: one source, no srcset
    client.force_login(member)
    html = client.get(collection.get_absolute_url()).content.decode()
    assert "a doe at dawn" in html and "a stag at dusk" not in html and 'form="remove-items"' in html
