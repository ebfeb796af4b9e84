"""Share links: made with an expiry and the prompts shown or not, the address shown once (only its
hash is kept), opened without login with only what may be shown outside the team, counted and
audited, and the same styled 404 once expired, revoked or unknown."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from albums import services
from albums.models import ShareLink
from audit.models import AuditEntry
from predictions.models import ReviewState
from tests.world import FILE_POLICY, PROMPT, collection_of, finished_prediction, share_link_of

pytestmark = pytest.mark.django_db


def page_text(response, path: str) -> str:
    """The page without its address and its form's CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode().replace(path, ""))


def shown_items(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'/s/[^/"]+/(\d+)/thumbnail/', html)]


def share_form_sent(client, collection, **data: str):
    """The owner's share form, as their collection's page shows it, sent with `data`."""
    page = client.get(collection.get_absolute_url()).content.decode()
    nonce = re.search(r'name="form_nonce" value="([^"]+)"', page).group(1)
    return client.post(reverse("collections:share", args=[collection.pk]), {"form_nonce": nonce, **data})


def test_the_link_is_shown_once_and_only_its_hash_is_kept(member_client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    response = share_form_sent(member_client, collection, days="7")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    url = re.search(r'value="(http://testserver/s/[^"]+/)"', response.content.decode()).group(1)
    token = url.rstrip("/").rsplit("/", 1)[1]
    link = ShareLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(ShareLink.objects.values().get())
    assert link.expires_at - link.created_at == timedelta(days=7)
    assert token not in member_client.get(collection.get_absolute_url()).content.decode()
    entry = AuditEntry.objects.get(action="sharelink.create")
    assert entry.actor == member and entry.target_id == str(link.pk)


def test_a_link_opens_without_login_with_the_images_and_safe_headers(client, member):
    prediction = finished_prediction(member, prompt="a secret stag", outputs=2)
    collection = collection_of(member, prediction)
    response = client.get(share_link_of(collection))
    html = response.content.decode()
    assert response.status_code == 200
    assert len(shown_items(html)) == 2
    assert "a secret stag" not in html and "alice" not in html
    assert 'name="robots" content="noindex' in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "Log out" not in html and "/predictions/" not in html


def test_the_prompts_show_only_when_the_sharer_chose_so(client, member):
    collection = collection_of(member, finished_prediction(member, prompt="a stag in mist", outputs=1))
    assert "a stag in mist" in client.get(share_link_of(collection, show_prompt=True)).content.decode()


def test_the_shared_images_are_served_through_the_link_each_time(client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    path = share_link_of(collection)
    item = shown_items(client.get(path).content.decode())[0]
    image = client.get(f"{path}{item}/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["Content-Security-Policy"] == FILE_POLICY
    assert image["Referrer-Policy"] == "no-referrer" and image["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"{path}{item}/thumbnail/")["Content-Type"] == "image/webp"
    other = collection_of(member, finished_prediction(member, outputs=1), name="Other")
    assert client.get(f"{path}{other.items.get().pk}/").status_code == 404  # not this link's collection


@pytest.mark.parametrize(
    "change",
    [
        {"review_state": ReviewState.REJECTED},
        {"is_private": True},
        {"files_deleted_at": timezone.now},
    ],
    ids=["rejected", "private", "files deleted"],
)
def test_rejected_private_or_deleted_items_drop_out_at_the_moment_of_opening(client, member, change):
    kept = finished_prediction(member, outputs=1)
    dropped = finished_prediction(member, outputs=1)
    collection = collection_of(member, kept, dropped)
    path = share_link_of(collection)
    dropped_item = collection.items.get(output__prediction=dropped).pk
    assert dropped_item in shown_items(client.get(path).content.decode())
    type(dropped).objects.filter(pk=dropped.pk).update(
        **{key: value() if callable(value) else value for key, value in change.items()}
    )
    assert shown_items(client.get(path).content.decode()) == [collection.items.get(output__prediction=kept).pk]
    assert client.get(f"{path}{dropped_item}/").status_code == 404


def test_a_link_never_shows_what_its_maker_may_no_longer_see(client, member, other_member):
    theirs = finished_prediction(other_member, outputs=1, review_state=ReviewState.APPROVED)
    collection = collection_of(member, theirs)  # from the gallery
    path = share_link_of(collection)
    assert len(shown_items(client.get(path).content.decode())) == 1
    type(theirs).objects.filter(pk=theirs.pk).update(review_state=ReviewState.PENDING)  # back out of the gallery
    assert shown_items(client.get(path).content.decode()) == []


def test_an_expired_link_is_the_styled_404(client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    path = share_link_of(collection, days=1)
    item = collection.items.get().pk
    assert client.get(path).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        response = client.get(path)
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()
        assert client.get(f"{path}{item}/").status_code == 404


def test_a_revoked_link_looks_like_one_that_never_was(member_client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    path = share_link_of(collection)
    link = ShareLink.objects.get()
    unknown = Client().get("/s/" + "x" * 43 + "/")
    response = member_client.post(reverse("collections:revoke", args=[collection.pk, link.pk]))
    assert response.status_code == 302
    revoked = Client().get(path)
    assert revoked.status_code == unknown.status_code == 404
    assert page_text(revoked, path) == page_text(unknown, "/s/" + "x" * 43 + "/")
    entry = AuditEntry.objects.get(action="sharelink.revoke")
    assert entry.actor == member and entry.target_id == str(link.pk)
    assert not services.share_link_revoke(ShareLink.objects.get(), by=member)  # once


def test_openings_are_counted_and_audited_at_most_once_an_hour(client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    path = share_link_of(collection)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            client.get(path)
    item = collection.items.get().pk
    client.get(f"{path}{item}/")  # an image is not an opening
    with time_machine.travel(start + timedelta(hours=1, seconds=1), tick=False):
        client.get(path)
    assert ShareLink.objects.get().open_count == 4
    assert [e.after["open_count"] for e in AuditEntry.objects.filter(action="sharelink.open").order_by("pk")] == [1, 4]
    assert AuditEntry.objects.filter(action="sharelink.open").first().actor is None


def test_the_owners_page_lists_links_with_their_state_and_count(member_client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    path = share_link_of(collection)
    Client().get(path)
    html = member_client.get(collection.get_absolute_url()).content.decode()
    assert "Works until" in html and "1 time" in html and "Revoke" in html


def test_a_teammate_cannot_make_or_revoke_a_link_to_a_team_collection(client, member, other_member):
    collection = collection_of(member, finished_prediction(member, outputs=1), visibility="team")
    share_link_of(collection)
    client.force_login(other_member)
    assert client.post(reverse("collections:share", args=[collection.pk]), {"days": "1"}).status_code == 404
    link = ShareLink.objects.get()
    assert client.post(reverse("collections:revoke", args=[collection.pk, link.pk])).status_code == 404
    assert "Create a share link" not in client.get(collection.get_absolute_url()).content.decode()


def test_a_deactivated_members_links_stop_working(client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    path = share_link_of(collection)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert client.get(path).status_code == 404


def test_the_share_page_prompt_is_the_predictions(client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    assert PROMPT in client.get(share_link_of(collection, show_prompt=True)).content.decode()


def test_the_share_page_costs_the_same_queries_for_few_or_many_images(client, member, django_assert_max_num_queries):
    prediction = finished_prediction(member, outputs=1)
    collection = collection_of(member, prediction)
    path = share_link_of(collection, show_prompt=True)
    client.get(path)  # the first opening writes an audit entry; later ones within the hour do not
    with django_assert_max_num_queries(12) as few:
        client.get(path)
    services.collection_items_add(
        collection, [o for p in [finished_prediction(member, outputs=4) for _ in range(20)] for o in p.outputs.all()]
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(path).content.decode()
    assert len(shown_items(html)) == 60 and 'rel="next"' in html


def test_sending_the_share_form_again_makes_no_second_link(member_client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    page = member_client.get(collection.get_absolute_url()).content.decode()
    nonce = re.search(r'name="form_nonce" value="([^"]+)"', page).group(1)
    url = reverse("collections:share", args=[collection.pk])
    assert member_client.post(url, {"form_nonce": nonce, "days": "1"}).status_code == 200
    again = member_client.post(url, {"form_nonce": nonce, "days": "1"}, follow=True)
    assert "That form was sent already" in again.content.decode()
    assert ShareLink.objects.count() == 1


def test_the_audit_log_finds_a_links_entries_by_their_prefix(admin_client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    Client().get(share_link_of(collection))
    html = admin_client.get(reverse("audit:list"), {"action": "sharelink."}).content.decode()
    assert "sharelink.create" in html and "sharelink.open" in html
    assert '<option value="sharelink.revoke">' in html or 'value="sharelink.revoke"' in html
