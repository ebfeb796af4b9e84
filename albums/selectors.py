"""Reads: which collections and which of their outputs each person (or share link) may see.

Who may see an output is the predictions app's rule (`output_visibility`); a share link shows
what its maker may still see and what may be shown outside the team (`shareable_outside`), at
the moment it is opened. Nothing here widens either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.tokens import token_hash
from albums.models import Collection, CollectionItem, ShareLink, Visibility
from predictions.models import Prediction, PredictionOutput
from predictions.selectors import output_visibility, outputs_for_archive, shareable_outside

if TYPE_CHECKING:
    from predictions.models import User

TOKEN_MAX = 100  # longer than any token made: not looked up


def collections_seen_by(user: User) -> QuerySet[Collection]:
    """The member's own collections and the team's, own first, newest first, with their sizes."""
    return (
        Collection.objects.filter(Q(owner=user) | Q(visibility=Visibility.TEAM))
        .select_related("owner")
        .annotate(size=Count("items"))
        .order_by("-created_at", "-pk")
    )


def collections_own(user: User) -> list[Collection]:
    """The member's collections by name: what an "Add to collection" form offers."""
    return list(Collection.objects.filter(owner=user).only("pk", "name", "owner_id").order_by("name", "pk"))


def collection_get(user: User, pk: int) -> Collection:
    """A collection the member owns or the team may see, else 404."""
    return get_object_or_404(
        Collection.objects.filter(Q(owner=user) | Q(visibility=Visibility.TEAM)).select_related("owner"), pk=pk
    )


def collection_own_get(user: User, pk: int) -> Collection:
    """One of the member's own collections, else 404 (only the owner changes one)."""
    return get_object_or_404(Collection.objects.filter(owner=user).select_related("owner"), pk=pk)


def _stored(prefix: str) -> Q:
    return Q(**{f"{prefix}prediction__files_deleted_at__isnull": True}) & ~Q(**{f"{prefix}file": ""})


def collection_items(user: User, collection: Collection) -> QuerySet[CollectionItem]:
    """The items of `collection` whose outputs `user` may see, last added first."""
    return (
        CollectionItem.objects.filter(output_visibility(user, "output__"), _stored("output__"), collection=collection)
        .select_related("output__prediction__prompt")
        .order_by("-created_at", "-pk")
    )


# What a collection's tile or a share page's image shows of an item: the rest of its output,
# prediction (inputs, logs, metrics) and prompt is not read for a page of them.
TILE_FIELDS = (
    "id",
    "created_at",
    "output__id",
    "output__index",
    "output__width",
    "output__height",
    "output__thumbnail",
    "output__prediction__id",
    "output__prediction__prompt__id",
    "output__prediction__prompt__text",
)


def as_tiles(items: QuerySet[CollectionItem]) -> QuerySet[CollectionItem]:
    """`items` (collection_items, share_items) with only what their tiles show."""
    return items.only(*TILE_FIELDS)


def collection_archive(user: User, collection: Collection) -> list[Prediction]:
    """What the collection's .zip holds for `user`: the outputs they may see, with their predictions."""
    ids = list(collection_items(user, collection).values_list("output_id", flat=True))
    return outputs_for_archive(user, ids)


def outputs_to_add(user: User, *, prediction_ids: list[int], output_ids: list[int]) -> list[PredictionOutput]:
    """The stored outputs of those predictions, and those outputs, that `user` may see."""
    chosen = Q(prediction_id__in=prediction_ids[:200]) | Q(pk__in=output_ids[:1000])
    return list(
        PredictionOutput.objects.filter(output_visibility(user), _stored(""), chosen)
        .select_related("prediction__prompt")
        .order_by("-prediction_id", "index")
    )


def collection_share_links(collection: Collection) -> list[ShareLink]:
    return list(collection.share_links.order_by("-created_at", "-pk")[:50])


def share_link_get(token: str) -> ShareLink:
    """A live share link by its token (not revoked, not expired, its maker still a member), else 404:
    unknown, expired and revoked links look the same."""
    if not token or len(token) > TOKEN_MAX:
        raise Http404
    link = (
        ShareLink.objects.filter(token_hash=token_hash(token), created_by__is_active=True)
        .select_related("collection", "created_by")
        .first()
    )
    if link is None or not link.is_live(timezone.now()):
        raise Http404
    return link


def share_items(link: ShareLink) -> QuerySet[CollectionItem]:
    """What the link shows now: the items its maker may still see that may be shown outside the team."""
    return (
        CollectionItem.objects.filter(
            output_visibility(link.created_by, "output__"),
            shareable_outside("output__prediction__"),
            _stored("output__"),
            collection_id=link.collection_id,
        )
        .select_related("output__prediction__prompt")
        .order_by("-created_at", "-pk")
    )


def share_item_get(link: ShareLink, item_id: int) -> CollectionItem:
    return get_object_or_404(share_items(link), pk=item_id)
