"""Reads for pages: one place that decides who may see which prediction."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .models import Prediction, PredictionOutput, User


def predictions_visible_to(user: User) -> QuerySet[Prediction]:
    """Members see their own predictions; staff see everyone's."""
    qs = Prediction.objects.all()
    if not user.is_staff:
        qs = qs.filter(owner=user)
    return qs


def prediction_history(user: User) -> QuerySet[Prediction]:
    """A member's own history, newest first, with what each row shows."""
    return (
        Prediction.objects.filter(owner=user)
        .select_related("prompt")
        .prefetch_related(
            Prefetch("outputs", queryset=PredictionOutput.objects.order_by("index").only(
                "id", "prediction_id", "index", "thumbnail", "content_type"
            ))
        )
        .order_by("-created_at", "-pk")
    )


def prediction_get(user: User, pk: int) -> Prediction:
    """The prediction if `user` may see it, else 404 (never 403: ids are not disclosed)."""
    return get_object_or_404(
        predictions_visible_to(user).select_related("prompt", "owner"), pk=pk
    )


def output_get(user: User, pk: int, index: int) -> PredictionOutput:
    return get_object_or_404(
        PredictionOutput.objects.filter(prediction__in=predictions_visible_to(user)),
        prediction_id=pk,
        index=index,
    )
