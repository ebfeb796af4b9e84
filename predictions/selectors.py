"""Reads for pages: one place that decides who may see which prediction."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Lookup, Max, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from common import permissions
from common.paging import day_range
from predictions.models import (
    ACTIVE,
    InputImage,
    Prediction,
    PredictionOutput,
    Prompt,
    ReviewState,
    Status,
    User,
)

logger = logging.getLogger(__name__)


def predictions_visible_to(user: User) -> QuerySet[Prediction]:
    """Members see their own predictions; reviewers and admins (view_team_predictions) see everyone's."""
    qs = Prediction.objects.all()
    if not permissions.can_view_team(user):
        qs = qs.filter(owner=user)
    return qs


def shared_with_team(prefix: str = "") -> Q:
    """In the team gallery: approved, not private, files kept. `prefix` reaches it across a relation."""
    return Q(
        **{
            f"{prefix}review_state": ReviewState.APPROVED,
            f"{prefix}is_private": False,
            f"{prefix}files_deleted_at__isnull": True,
        }
    )


def output_visibility(user: User, prefix: str = "") -> Q:
    """The outputs `user` may see (the rule of `prediction_get`): everyone's for reviewers and
    admins; a member's own, and those shared in the gallery. `prefix` reaches an output across a relation."""
    if permissions.can_view_team(user):
        return Q()
    return Q(**{f"{prefix}prediction__owner": user}) | shared_with_team(f"{prefix}prediction__")


def shareable_outside(prefix: str = "") -> Q:
    """What a share link may show outside the team: not rejected, not private, files kept."""
    return Q(**{f"{prefix}files_deleted_at__isnull": True, f"{prefix}is_private": False}) & ~Q(
        **{f"{prefix}review_state": ReviewState.REJECTED}
    )


ARCHIVE_MAX = 200  # predictions in one .zip download
OUTPUTS_ARCHIVE_MAX = 1000  # outputs in one .zip of chosen outputs (a grid selection, a collection)


def predictions_for_archive(user: User, ids: list[int]) -> list[Prediction]:
    """The predictions of `ids` that `user` may see (the rule of `prediction_get`), newest first,
    with their prompts, members and stored outputs: everything a .zip download writes."""
    qs = Prediction.objects.filter(pk__in=ids[:ARCHIVE_MAX], files_deleted_at__isnull=True)
    if not permissions.can_view_team(user):
        qs = qs.filter(Q(owner=user) | shared_with_team())
    outputs = PredictionOutput.objects.exclude(file="").order_by("index")
    return list(
        qs.select_related("prompt", "owner").prefetch_related(Prefetch("outputs", queryset=outputs)).order_by("-pk")
    )


def outputs_for_archive(user: User, output_ids: list[int]) -> list[Prediction]:
    """The predictions of the outputs `output_ids` that `user` may see, each with only those of its
    outputs (a grid selection, a collection), as `predictions_for_archive` has them."""
    outputs = (
        PredictionOutput.objects.filter(output_visibility(user), pk__in=output_ids[:OUTPUTS_ARCHIVE_MAX])
        .exclude(file="")
        .filter(prediction__files_deleted_at__isnull=True)
        .order_by("index")
    )
    ids = outputs.values("prediction_id")
    return list(
        Prediction.objects.filter(pk__in=ids)
        .select_related("prompt", "owner")
        .prefetch_related(Prefetch("outputs", queryset=outputs))
        .order_by("-pk")
    )


def prediction_history(
    user: User,
    *,
    status: str = "",
    model_id: str = "",
    since: date | None = None,
    until: date | None = None,
    search: str = "",
) -> QuerySet[Prediction]:
    """A member's own history, newest first, filtered, with what each row (or grid tile) shows.

    Each filter has an index: (owner, status, -created_at), (owner, model_id,
    -created_at), (owner, -created_at) for dates, and the trigram index on the
    prompt's text for `search` (see `PromptTextContains`).
    """
    qs = Prediction.objects.filter(owner=user)
    if status:
        qs = qs.filter(status=status)
    if model_id:
        qs = qs.filter(model_id=model_id)
    if search:
        # Also by the prompt's owner, always the prediction's (prediction_create never
        # links another member's prompt): PostgreSQL then ANDs the trigram index with the prompts'
        # owner index, instead of walking the member's history newest first, prompt by prompt
        # (bench/pages.py at 100,000 predictions: 18–72 ms down to 3–6 ms for that query).
        qs = qs.filter(prompt__owner=user, prompt__text__contains_text=search)
    return (
        day_range(qs, since, until)
        .select_related("prompt")
        .prefetch_related(
            Prefetch(
                "outputs",
                queryset=PredictionOutput.objects.order_by("index").only(
                    "id", "prediction_id", "index", "thumbnail", "content_type", "width", "height"
                ),
            )
        )
        .order_by("-created_at", "-pk")
    )


def playground_results(user: User, ids: list[int]) -> list[Prediction]:
    """The playground's results: those of `ids` that are the member's own, newest first, with
    their prompts and outputs (three queries, however many)."""
    outputs = PredictionOutput.objects.order_by("index").only(
        "id", "prediction_id", "index", "thumbnail", "content_type", "width", "height"
    )
    return list(
        Prediction.objects.filter(owner=user, pk__in=ids)
        .select_related("prompt")
        .prefetch_related(Prefetch("outputs", queryset=outputs))
        # What a card shows, and no more: 50 rows' inputs, logs and metrics are not decoded.
        .only(
            "id",
            "owner_id",
            "model_id",
            "status",
            "error",
            "seed",
            "created_at",
            "completed_at",
            "prompt__id",
            "prompt__text",
        )
        .order_by("-pk")
    )


def prediction_get(user: User, pk: int) -> Prediction:
    """The prediction if `user` may see it, else 404 (never 403: ids are not disclosed).

    Besides `predictions_visible_to`, any member may read a teammate's prediction
    that is shared in the gallery (so "Edit and run" works on it); only its owner
    acts on it, which the views check.
    """
    qs = Prediction.objects.select_related("prompt", "owner")
    if not permissions.can_view_team(user):
        qs = qs.filter(Q(owner=user) | shared_with_team())
    return get_object_or_404(qs, pk=pk)


def output_get(user: User, pk: int, index: int) -> PredictionOutput:
    """A stored output, under the same rule as `prediction_get`."""
    return get_object_or_404(PredictionOutput.objects.filter(output_visibility(user)), prediction_id=pk, index=index)


# --- Cards (history grid, review queue, gallery) ------------------


def with_cards(qs: QuerySet[Prediction]) -> QuerySet[Prediction]:
    """What a grid card shows: prompt, member and the outputs' thumbnails, in three queries."""
    return qs.select_related("prompt", "owner").prefetch_related(
        Prefetch(
            "outputs",
            queryset=PredictionOutput.objects.order_by("index").only(
                "id", "prediction_id", "index", "thumbnail", "content_type", "width", "height"
            ),
        )
    )


# --- Search lookups, history pages, compare and the prompt library ----------------


class PromptTextContains(Lookup):
    """`text ILIKE '%term%'`: on PostgreSQL the trigram index of migration 0003 serves it.

    Django's own `icontains` compares UPPER(text), which that index cannot serve.
    Registered on Prompt.text only, as `prompt__text__contains_text`.
    """

    lookup_name = "contains_text"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        pattern = f"%{connection.ops.prep_for_like_query(rhs_params[0])}%"
        if connection.vendor == "postgresql":
            return f"{lhs} ILIKE {rhs}", [*lhs_params, pattern]
        return f"{lhs} LIKE {rhs} ESCAPE '\\'", [*lhs_params, pattern]  # SQLite's LIKE ignores ASCII case


class PromptIdAmong(Lookup):
    """`prompt_id = ANY(%s)`: the ids as one array parameter on PostgreSQL, where `__in` writes,
    adapts and plans a placeholder per id (thousands for a word many prompts have).

    Registered on Prediction.prompt only, as `prompt__among`; elsewhere an IN list.
    """

    lookup_name = "among"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = [int(pk) for pk in self.rhs]
        if connection.vendor == "postgresql":
            # Typed as the column: bigint = ANY(int4[]), which psycopg would send for small ints, is
            # neither hashed nor well estimated (a linear search of the list for each row). Written
            # as the array's text: psycopg dumps a list element by element in Python.
            array = "{" + ",".join(map(str, ids)) + "}"
            return f"{lhs} = ANY(%s::{self.lhs.output_field.db_type(connection)}[])", [*lhs_params, array]
        if not ids:
            return "1 = 0", []
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*lhs_params, *ids]


def lookups_register() -> None:
    """Make `text__contains_text` and `prompt__among` available (PredictionsConfig.ready)."""
    Prompt._meta.get_field("text").register_lookup(PromptTextContains)
    Prediction._meta.get_field("prompt").register_lookup(PromptIdAmong)


@dataclass(frozen=True)
class HistoryPage:
    """One page of a newest-first list, with the ids to continue from either way (None at an end)."""

    rows: list[Prediction]
    older_after: int | None
    newer_before: int | None


def history_page(
    qs: QuerySet[Prediction], *, after: int | None = None, before: int | None = None, size: int = 25
) -> HistoryPage:
    """A page of `qs` (ordered -created_at, -pk) older than row `after` or newer than row `before`.

    Keyset paging: page 4,000 of 100,000 rows costs what page 1 costs, and costs
    no COUNT. An anchor id that does not exist starts again from the newest.
    """
    anchor_id = after or before
    anchor = Prediction.objects.filter(pk=anchor_id).values_list("created_at", flat=True).first() if anchor_id else None
    if anchor is None:
        rows = list(qs[: size + 1])
        return HistoryPage(rows[:size], rows[size - 1].pk if len(rows) > size else None, None)
    if after:
        rows = list(qs.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=after))[: size + 1])
        return HistoryPage(rows[:size], rows[size - 1].pk if len(rows) > size else None, rows[0].pk if rows else None)
    newer = list(
        qs.filter(Q(created_at__gt=anchor) | Q(created_at=anchor, pk__gt=before)).order_by("created_at", "pk")[
            : size + 1
        ]
    )
    rows = list(reversed(newer[:size]))
    return HistoryPage(rows, rows[-1].pk if rows else None, rows[0].pk if len(newer) > size else None)


def compare_group_get(user: User, group: uuid.UUID) -> list[Prediction]:
    """The predictions made together by one "Compare", in the order they were chosen; 404 if none is visible."""
    rows = list(
        predictions_visible_to(user)
        .filter(compare_group=group)
        .select_related("prompt", "owner")
        .prefetch_related(Prefetch("outputs", queryset=PredictionOutput.objects.order_by("index")))
        .order_by("pk")
    )
    if not rows:
        raise Http404
    return rows


def prompt_library(user: User) -> QuerySet[Prompt]:
    """A member's named prompts, by name, with how often and when last each was used."""
    return (
        Prompt.objects.filter(owner=user)
        .exclude(name="")
        .annotate(uses=Count("predictions"), last_used=Max("predictions__created_at"))
        .order_by("name", "pk")
    )


def prompt_get(user: User, pk: int) -> Prompt:
    """One of the member's own prompts (named or not), else 404."""
    return get_object_or_404(Prompt.objects.filter(owner=user), pk=pk)


# A prediction's inputs may still be fetched by DeerAPI: before and while it runs there, and
# while its outcome is unknown (it may be running). Not once DeerAPI has finished with it.
FETCHABLE = (Status.QUEUED, Status.SUBMITTING, Status.STARTING, Status.PROCESSING, Status.UNKNOWN)


def input_image_for_deerapi(token: uuid.UUID) -> InputImage:
    """An uploaded input image by its unguessable token, for DeerAPI (no login), while DeerAPI
    may need it: uploaded less than INPUT_URL_TTL ago and used by a prediction DeerAPI may still
    fetch it for. Else 404, whoever asks."""
    since = timezone.now() - timedelta(seconds=settings.INPUT_URL_TTL)
    image = InputImage.objects.filter(token=token, created_at__gt=since, predictions__status__in=FETCHABLE).first()
    if image is None:
        raise Http404
    return image


def prediction_input_image(user: User, pk: int, image_id: int) -> InputImage:
    """An uploaded image prediction `pk` was made with, if `user` may see that prediction
    (the rule of `prediction_get`), else 404."""
    rule = Q(predictions__pk=pk)
    if not permissions.can_view_team(user):
        rule &= Q(predictions__owner=user) | shared_with_team("predictions__")
    image = InputImage.objects.filter(rule, pk=image_id).first()
    if image is None:
        raise Http404
    return image


def input_images_visible_to(user: User) -> QuerySet[InputImage]:
    """Uploaded images `user` may see: their own, and those of predictions they may see."""
    qs = InputImage.objects.all()
    if permissions.can_view_team(user):
        return qs
    return qs.filter(Q(owner=user) | Q(predictions__owner=user) | shared_with_team("predictions__")).distinct()


# --- The home page ---------------------------------------------------------------------


def predictions_running(user: User, *, limit: int) -> list[Prediction]:
    """Up to `limit` of the member's predictions still being worked on, newest first, with
    their prompts (index: owner, status, -created_at)."""
    return list(
        Prediction.objects.filter(owner=user, status__in=ACTIVE)
        .select_related("prompt")
        .order_by("-created_at", "-pk")[:limit]
    )


def latest_results(user: User, *, limit: int) -> list[Prediction]:
    """The member's `limit` newest succeeded predictions with their thumbnails: two queries
    (index: owner, status, -created_at)."""
    return list(prediction_history(user, status=Status.SUCCEEDED)[:limit])
