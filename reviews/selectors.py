"""Reads of the review queue and the team gallery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from common.paging import day_range
from predictions.models import Prediction, ReviewState, Status
from predictions.selectors import shared_with_team, with_cards


def review_queue(
    *, member_id: int | None = None, model_id: str = "", since: date | None = None, until: date | None = None
) -> QuerySet[Prediction]:
    """Succeeded predictions nobody has reviewed yet, oldest first (index: status, review_state, created_at)."""
    qs = Prediction.objects.filter(status=Status.SUCCEEDED, review_state=ReviewState.PENDING)
    if member_id:
        qs = qs.filter(owner_id=member_id)
    if model_id:
        qs = qs.filter(model_id=model_id)
    return with_cards(day_range(qs, since, until)).order_by("created_at", "pk")


def gallery(*, member_id: int | None = None, model_id: str = "") -> QuerySet[Prediction]:
    """The team gallery, newest first (index: review_state, is_private, -created_at)."""
    qs = Prediction.objects.filter(shared_with_team())
    if member_id:
        qs = qs.filter(owner_id=member_id)
    if model_id:
        qs = qs.filter(model_id=model_id)
    return with_cards(qs).order_by("-created_at", "-pk")


def gallery_get(pk: int) -> Prediction:
    """A prediction shared in the gallery, else 404 (also for its owner once it is private)."""
    return get_object_or_404(Prediction.objects.filter(shared_with_team()).select_related("prompt", "owner"), pk=pk)


@dataclass(frozen=True)
class ReviewQueueSummary:
    """What the home page tells a reviewer: how many wait, and the one waiting longest."""

    size: int
    oldest: Prediction | None


def review_queue_summary() -> ReviewQueueSummary:
    """The queue's size (as the queue page counts it) and its oldest prediction, with its card:
    three queries, none when the queue is empty but the first (index: status, review_state, created_at)."""
    oldest = review_queue().first()
    if oldest is None:
        return ReviewQueueSummary(size=0, oldest=None)
    return ReviewQueueSummary(size=review_queue().count(), oldest=oldest)
