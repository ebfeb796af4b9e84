"""Writes: collections, their items, and share links (made, opened, revoked: all in the audit log)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.tokens import token_hash
from albums.models import Collection, CollectionItem, ShareLink, Visibility
from audit.services import audit_record
from predictions.models import PredictionOutput

if TYPE_CHECKING:
    from predictions.models import User

COLLECTION_MAX = 1000  # outputs in one collection (its .zip holds them all)
SHARE_DAYS = (1, 7, 30)  # the expiries a share link is made with
OPEN_AUDIT_EVERY = timedelta(hours=1)  # an opening is written to the audit log at most this often per link


class CollectionError(Exception):
    """A change refused, with the message to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def collection_create(*, owner: User, name: str, visibility: str = Visibility.PRIVATE) -> Collection:
    """A new collection of `owner`'s; its name must be new among theirs."""
    try:
        with transaction.atomic():
            return Collection.objects.create(owner=owner, name=name.strip(), visibility=visibility)
    except IntegrityError:
        raise CollectionError(_("You already have a collection named “%(name)s”.") % {"name": name}) from None


def collection_update(collection: Collection, *, name: str, visibility: str) -> None:
    collection.name, collection.visibility = name.strip(), visibility
    try:
        with transaction.atomic():
            collection.save(update_fields=["name", "visibility"])
    except IntegrityError:
        raise CollectionError(_("You already have a collection named “%(name)s”.") % {"name": name}) from None


def collection_delete(collection: Collection, *, by: User) -> None:
    """The collection, its items and its share links go (the outputs stay where they are)."""
    with transaction.atomic():
        live = collection.share_links.filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).count()
        audit_record(
            actor=by,
            action="collection.delete",
            target=collection,
            summary=collection.name,
            before={"name": collection.name, "live_share_links": live},
        )
        collection.delete()


def collection_items_add(collection: Collection, outputs: list[PredictionOutput]) -> int:
    """Add `outputs` (the caller read them under the adder's visibility) once each; how many were new.
    Refused past COLLECTION_MAX."""
    with transaction.atomic():
        Collection.objects.select_for_update().filter(pk=collection.pk).first()  # one adder at a time
        present = set(
            CollectionItem.objects.filter(collection=collection, output__in=outputs).values_list("output_id", flat=True)
        )
        new = [output for output in dict.fromkeys(outputs) if output.pk not in present]
        if new and collection.items.count() + len(new) > COLLECTION_MAX:
            raise CollectionError(
                _("A collection holds at most %(max)d images; this one cannot take %(n)d more.")
                % {"max": COLLECTION_MAX, "n": len(new)}
            )
        now = timezone.now()
        CollectionItem.objects.bulk_create(
            [CollectionItem(collection=collection, output=output, created_at=now) for output in new],
            ignore_conflicts=True,
        )
    return len(new)


def collection_item_remove(collection: Collection, item_id: int) -> bool:
    return CollectionItem.objects.filter(collection=collection, pk=item_id).delete()[0] > 0


def share_link_create(collection: Collection, *, by: User, days: int, show_prompt: bool) -> tuple[ShareLink, str]:
    """A new link to `collection`, valid `days` days (one of SHARE_DAYS), and its token: shown once,
    only its hash is kept."""
    if days not in SHARE_DAYS:
        raise CollectionError(_("Choose how long the link works: a day, a week or a month."))
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        link = ShareLink.objects.create(
            collection=collection,
            token_hash=token_hash(token),
            show_prompt=show_prompt,
            expires_at=now + timedelta(days=days),
            created_by=by,
            created_at=now,
        )
        audit_record(
            actor=by,
            action="sharelink.create",
            target=link,
            summary=collection.name,
            after={"collection": collection.pk, "expires_at": link.expires_at, "show_prompt": show_prompt},
        )
    return link, token


def share_link_revoke(link: ShareLink, *, by: User) -> bool:
    """Revoke a live link; False if it was revoked already."""
    now = timezone.now()
    with transaction.atomic():
        if not ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=now):
            return False
        audit_record(
            actor=by,
            action="sharelink.revoke",
            target=link,
            summary=link.collection.name,
            before={"open_count": link.open_count},
            after={"revoked_at": now},
        )
    link.revoked_at = now
    return True


def share_link_opened(link: ShareLink) -> None:
    """Count an opening of the share page (its images are not counted). The audit log gets an entry
    for the first opening and then at most one an hour per link, with the count so far: a link
    passed around cannot flood the log."""
    now = timezone.now()
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk).update(open_count=F("open_count") + 1, last_opened_at=now)
        due = Q(audited_open_at__isnull=True) | Q(audited_open_at__lte=now - OPEN_AUDIT_EVERY)
        if ShareLink.objects.filter(due, pk=link.pk).update(audited_open_at=now):
            count = ShareLink.objects.filter(pk=link.pk).values_list("open_count", flat=True).first()
            audit_record(
                actor=None,
                action="sharelink.open",
                target=link,
                summary=link.collection.name,
                after={"open_count": count},
            )
