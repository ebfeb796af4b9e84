"""Reads for pages: one place that decides who may see which prediction."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Lookup, Max, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext

from . import catalog, roles
from .models import (
    AuditEntry,
    InputImage,
    LedgerEntry,
    ModelConfig,
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
    if not roles.can_view_team(user):
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
        _day_range(qs, since, until)
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


def prediction_get(user: User, pk: int) -> Prediction:
    """The prediction if `user` may see it, else 404 (never 403: ids are not disclosed).

    Besides `predictions_visible_to`, any member may read a teammate's prediction
    that is shared in the gallery (so "Edit and run" works on it); only its owner
    acts on it, which the views check.
    """
    qs = Prediction.objects.select_related("prompt", "owner")
    if not roles.can_view_team(user):
        qs = qs.filter(Q(owner=user) | shared_with_team())
    return get_object_or_404(qs, pk=pk)


def output_get(user: User, pk: int, index: int) -> PredictionOutput:
    """A stored output, under the same rule as `prediction_get`."""
    qs = PredictionOutput.objects.all()
    if not roles.can_view_team(user):
        qs = qs.filter(Q(prediction__owner=user) | shared_with_team("prediction__"))
    return get_object_or_404(qs, prediction_id=pk, index=index)


# --- Review queue, team gallery, audit log, team -----------------


def _with_cards(qs: QuerySet[Prediction]) -> QuerySet[Prediction]:
    """What a grid card shows: prompt, member and the outputs' thumbnails, in three queries."""
    return qs.select_related("prompt", "owner").prefetch_related(
        Prefetch(
            "outputs",
            queryset=PredictionOutput.objects.order_by("index").only(
                "id", "prediction_id", "index", "thumbnail", "content_type", "width", "height"
            ),
        )
    )


def _day_range(qs: QuerySet, since: date | None, until: date | None) -> QuerySet:
    """Rows created on or after `since` and on or before `until` (whole days, local time)."""
    if since:
        qs = qs.filter(created_at__gte=timezone.make_aware(datetime.combine(since, time.min)))
    if until:
        qs = qs.filter(created_at__lt=timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min)))
    return qs


def review_queue(
    *, member_id: int | None = None, model_id: str = "", since: date | None = None, until: date | None = None
) -> QuerySet[Prediction]:
    """Succeeded predictions nobody has reviewed yet, oldest first (index: status, review_state, created_at)."""
    qs = Prediction.objects.filter(status=Status.SUCCEEDED, review_state=ReviewState.PENDING)
    if member_id:
        qs = qs.filter(owner_id=member_id)
    if model_id:
        qs = qs.filter(model_id=model_id)
    return _with_cards(_day_range(qs, since, until)).order_by("created_at", "pk")


def gallery(*, member_id: int | None = None, model_id: str = "") -> QuerySet[Prediction]:
    """The team gallery, newest first (index: review_state, is_private, -created_at)."""
    qs = Prediction.objects.filter(shared_with_team())
    if member_id:
        qs = qs.filter(owner_id=member_id)
    if model_id:
        qs = qs.filter(model_id=model_id)
    return _with_cards(qs).order_by("-created_at", "-pk")


def gallery_get(pk: int) -> Prediction:
    """A prediction shared in the gallery, else 404 (also for its owner once it is private)."""
    return get_object_or_404(Prediction.objects.filter(shared_with_team()).select_related("prompt", "owner"), pk=pk)


def audit_entries(
    *,
    actor_id: int | None = None,
    automatic: bool = False,
    action: str = "",
    target_type: str = "",
    target_id: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """The audit log, newest first, filtered; `automatic` picks what DeerWeb did by itself."""
    qs = AuditEntry.objects.select_related("actor")
    if automatic:
        qs = qs.filter(actor__isnull=True)
    elif actor_id:
        qs = qs.filter(actor_id=actor_id)
    if action:
        qs = qs.filter(action__startswith=action) if action.endswith(".") else qs.filter(action=action)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id:
        qs = qs.filter(target_id=target_id)
    return _day_range(qs, since, until).order_by("-created_at", "-pk")


def keyset_page(qs: QuerySet, *, after: int | None, size: int) -> tuple[list, int | None]:
    """One page of `qs` (ordered by created_at and pk, either way) after the row `after`.

    Keyset paging instead of OFFSET: as fast on page 4,000 as on page 1, and a
    queue whose rows leave as they are reviewed does not skip any.
    Returns the rows and the id to continue after (None on the last page).
    """
    if after:
        anchor = qs.model.objects.filter(pk=after).values_list("created_at", flat=True).first()
        if anchor is not None:
            order = qs.query.order_by[0]
            if not isinstance(order, str):
                raise TypeError("keyset_page needs a queryset ordered by field names")
            newest_first = order.startswith("-")
            if newest_first:
                qs = qs.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=after))
            else:
                qs = qs.filter(Q(created_at__gt=anchor) | Q(created_at=anchor, pk__gt=after))
    rows = list(qs[: size + 1])
    return rows[:size], (rows[size - 1].pk if len(rows) > size else None)


def member_choices() -> list[tuple[int, str]]:
    """Every account, for filter menus (a team has tens of members, not thousands)."""
    return list(User.objects.order_by("username").values_list("pk", "username"))


def team_members() -> QuerySet[User]:
    """Accounts for the team page, with their groups for `roles.role_of`."""
    return User.objects.prefetch_related("groups").order_by("-is_active", "username")


# --- Models, history pages, compare and the prompt library ----------------


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


def _model_from_config(config: ModelConfig) -> catalog.ModelSpec | None:
    """A model an admin added by id, or None when its schema does not convert (the admin form prevents that)."""
    try:
        fields = catalog.fields_from_json_schema(config.input_schema)
    except catalog.SchemaError as exc:
        logger.warning("model %s: unusable input schema: %s", config.model_id, exc)
        return None
    return catalog.ModelSpec(
        id=config.model_id,
        name=config.name or config.model_id,
        vendor=config.vendor or gettext("Other"),
        fields=fields,
        output=config.output_shape if config.output_shape in catalog.OUTPUT_SHAPES else "single",
        price=config.price if config.price is not None else Decimal("0"),
    )


def _model_with_config(spec: catalog.ModelSpec | None, config: ModelConfig | None) -> catalog.ModelSpec | None:
    if config is None:
        return spec
    if not config.enabled:
        return None
    if spec is None:
        return _model_from_config(config)
    changes: dict[str, Any] = {}
    if config.price is not None:
        changes["price"] = config.price
    if config.name:
        changes["name"] = config.name
    if config.vendor:
        changes["vendor"] = config.vendor
    return dataclasses.replace(spec, **changes) if changes else spec


def model_get(model_id: str) -> catalog.ModelSpec | None:
    """A model members may use now (None if unknown or disabled), with the admin's price. One query."""
    config = ModelConfig.objects.filter(model_id=model_id).first()
    return _model_with_config(catalog.get_model(model_id), config)


def models_enabled() -> list[catalog.ModelSpec]:
    """Every model members may use, grouped by vendor (catalog order; added models last). One query."""
    configs = {config.model_id: config for config in ModelConfig.objects.all()}
    specs = [_model_with_config(spec, configs.get(model_id)) for model_id, spec in catalog.MODELS.items()]
    specs += [_model_with_config(None, c) for model_id, c in configs.items() if model_id not in catalog.MODELS]
    enabled = [spec for spec in specs if spec is not None]
    vendors: dict[str, int] = {}
    for spec in enabled:
        vendors.setdefault(spec.vendor, len(vendors))
    return sorted(enabled, key=lambda spec: vendors[spec.vendor])


def models_sync_latest() -> AuditEntry | None:
    """The last report of which models DeerAPI lists (see model_sync.py)."""
    return AuditEntry.objects.filter(action="models.sync").select_related("actor").order_by("-created_at").first()


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
    if not roles.can_view_team(user):
        rule &= Q(predictions__owner=user) | shared_with_team("predictions__")
    image = InputImage.objects.filter(rule, pk=image_id).first()
    if image is None:
        raise Http404
    return image


def input_images_visible_to(user: User) -> QuerySet[InputImage]:
    """Uploaded images `user` may see: their own, and those of predictions they may see."""
    qs = InputImage.objects.all()
    if roles.can_view_team(user):
        return qs
    return qs.filter(Q(owner=user) | Q(predictions__owner=user) | shared_with_team("predictions__")).distinct()


# --- Usage and cost ------------------------------------------------------------


def ledger_entries(
    *, user_id: int | None, start: datetime, end: datetime, kind: str = "", model_id: str = ""
) -> QuerySet[LedgerEntry]:
    """Ledger entries in [start, end), newest first: one member's, or the team's with
    `user_id` None (indexes: user+created_at, created_at, model_id+created_at)."""
    qs = LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    if kind:
        qs = qs.filter(kind=kind)
    if model_id:
        qs = qs.filter(model_id=model_id)
    return qs.order_by("-created_at", "-pk")


def spending_by_day_and_model(
    *, user_id: int | None, start: datetime, end: datetime
) -> tuple[list[tuple[date, Decimal]], list[tuple[str, Decimal]]]:
    """Net spending in [start, end) per local day (days with entries only, in order) and per
    model (biggest first; admin adjustments under ""): one pass over the entries, grouped by
    day and model, whose few hundred sums are added up here."""
    rows = (
        ledger_entries(user_id=user_id, start=start, end=end)
        .order_by()
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "model_id")
        .annotate(total=Sum("amount"))
    )
    days: dict[date, Decimal] = {}
    models: dict[str, Decimal] = {}
    for day, model_id, total in rows:
        days[day] = days.get(day, Decimal(0)) + total
        models[model_id] = models.get(model_id, Decimal(0)) + total
    return sorted(days.items()), sorted(models.items(), key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class MemberSpending:
    member: User
    spent: Decimal  # in the chosen dates
    now: dict[str, Decimal]  # in each current period ("day", "week", "month")


def member_spending(
    *, start: datetime, end: datetime, periods: dict[str, tuple[datetime, datetime]]
) -> list[MemberSpending]:
    """Every account (with its quota row) and what it spent in [start, end) and in each
    current period of `periods`, biggest spender first.

    Two queries whatever the size of the ledger: sums grouped by member over one range of
    dates (index: created_at), each sum with its own FILTER, and the accounts. The chosen
    dates are summed apart (a third query) only when they do not overlap the current
    periods, so that no gap between them is scanned. (Per-member subqueries would be as
    fast to run, but PostgreSQL's estimate of them is high enough to JIT-compile the
    query, which costs more than running it.)
    """
    spans = [{"spent": (start, end)}]
    if periods:
        since = min(bounds[0] for bounds in periods.values())
        until = max(bounds[1] for bounds in periods.values())
        if start < until and since < end:
            spans[0].update(periods)
        else:
            spans.append(periods)
    sums: dict[int, dict[str, Any]] = {}
    for group in spans:
        since = min(bounds[0] for bounds in group.values())
        until = max(bounds[1] for bounds in group.values())
        totals = {name: Sum("amount", filter=Q(created_at__gte=a, created_at__lt=b)) for name, (a, b) in group.items()}
        for row in (
            LedgerEntry.objects.filter(created_at__gte=since, created_at__lt=until)
            .order_by()
            .values("user_id")
            .annotate(**totals)
        ):
            sums.setdefault(row["user_id"], {}).update(row)
    zero = Decimal("0")
    rows = [
        MemberSpending(
            member=member,
            spent=sums.get(member.pk, {}).get("spent") or zero,
            now={name: sums.get(member.pk, {}).get(name) or zero for name in periods},
        )
        for member in User.objects.select_related("quota").order_by("username")
    ]
    rows.sort(key=lambda row: row.spent, reverse=True)  # stable: by name among equals
    return rows
