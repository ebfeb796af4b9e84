"""Pages benchmark: server time and SQL queries of DeerWeb's pages on 100,000 predictions.

A dedicated PostgreSQL database (dropped, created and migrated at the start) is seeded with COPY:
`--predictions` predictions and `--outputs` stored outputs across `--members` members (a few heavy
users, many light ones), with their prompts (some reused, some in the library), a ledger entry for
every reservation, settlement and refund, review decisions, and dates over the last six months.
Output files are not written, except those of the predictions whose detail page is measured.

The seed goes in two stages: first `--first-stage` of it (whole prompts with their predictions),
where every page's SQL query count is taken, then the rest. Then each page is requested in this
process through Django's test Client with production settings (DEBUG off, manifest static files,
every middleware), as the member with the most predictions, a reviewer or an admin: after
`--warmup` untimed requests, `--requests` timed ones give the server time (median, p95). One more
request under CaptureQueriesContext gives the query count: at the first stage and at full size,
and for paged lists on page 2 and on a short last page, for the detail page with one output and
with four. Neither the table's size, nor the depth, nor the rows on the page may change it.

Targets: p95 ≤ 30 ms, a median of ≤ 20 ms of CPU per request in this process, and a query
count that grows with neither page size nor table size. A page that misses one is profiled:
EXPLAIN ANALYZE of its slowest query, its share of SQL time, and the cProfile functions with the
most cumulative time (`--profile`: every page).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import os
import pstats
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from . import harness
from .harness import BenchError

P95_TARGET_MS = 30.0
# Server CPU per request (median, this process): wall time on a busy machine waits for others.
CPU_TARGET_MS = 20.0
PLAN_LINES = 30
PROFILED_REQUESTS = 5
HISTORY_SPAN = timedelta(days=182)
MONEY = Decimal("0.0001")
# Share of the models among predictions; the four with `num_outputs` make up to four images each.
MODELS = [
    ("black-forest-labs/flux-schnell", 30),
    ("black-forest-labs/flux-dev", 12),
    ("stability-ai/sdxl", 9),
    ("black-forest-labs/flux-1.1-pro", 10),
    ("ideogram-ai/ideogram-v3-turbo", 8),
    ("black-forest-labs/flux-2-pro", 7),
    ("recraft-ai/recraft-v3", 6),
    ("black-forest-labs/flux-kontext-pro", 5),
    ("stability-ai/stable-diffusion-3.5-large", 5),
    ("stability-ai/stable-diffusion", 4),
    ("recraft-ai/recraft-v3-svg", 2),
    ("ideogram-ai/ideogram-v2", 2),
]
# Statuses of finished predictions; the newest 0.2 % are still in flight.
FINISHED = [("succeeded", 86.0), ("failed", 8.0), ("canceled", 3.5), ("unknown", 0.5)]
RUNNING = ["queued", "submitting", "starting", "processing", "storing"]
NOT_SENT = {"queued", "submitting", "unknown"}  # no DeerAPI id
NOT_STARTED = NOT_SENT | {"starting"}
FAILURES = [
    "NSFW content detected. Try running it again, or try a different prompt.",
    "DeerAPI stayed unavailable after 6 attempts: HTTP 503",
    "The output is not a valid image.",
    "Timed out: no result after 15 minutes.",
    "Prediction interrupted; please retry (code: PA)",
]
# Prompts are made of these words. Each subject is in about 1 prompt in 50, and none is part of
# another word here, so searching for one finds what a member searching for it would.
SUBJECTS = [
    "lighthouse",
    "fox",
    "astronaut",
    "cathedral",
    "samurai",
    "octopus",
    "violin",
    "glacier",
    "dragon",
    "robot",
    "teapot",
    "bicycle",
    "owl",
    "volcano",
    "submarine",
    "tiger",
    "castle",
    "jellyfish",
    "windmill",
    "hedgehog",
    "locomotive",
    "orchid",
    "knight",
    "whale",
    "cactus",
    "pagoda",
    "zeppelin",
    "flamingo",
    "typewriter",
    "waterfall",
    "chameleon",
    "greenhouse",
    "skyscraper",
    "tortoise",
    "accordion",
    "lantern",
    "penguin",
    "canyon",
    "beetle",
    "harbor",
    "mermaid",
    "falcon",
    "carousel",
    "bonsai",
    "glider",
    "sphinx",
    "koi",
    "raccoon",
    "observatory",
    "compass",
]
ADJECTIVES = [
    "ancient",
    "tiny",
    "giant",
    "rusty",
    "golden",
    "misty",
    "neon",
    "wooden",
    "crystal",
    "paper",
    "velvet",
    "frozen",
    "floating",
    "sleepy",
    "mechanical",
    "overgrown",
]
ACTIONS = ["resting", "dancing", "reading a map", "drifting", "waiting", "sleeping", "exploring", "singing"]
PLACES = [
    "in a quiet forest",
    "on a rainy street",
    "above the clouds",
    "under the sea",
    "in a desert at dusk",
    "on a snowy mountain",
    "in a busy market",
    "inside a library",
    "by a frozen lake",
    "on the moon",
]
STYLES = [
    "watercolor",
    "oil painting",
    "studio photo",
    "isometric render",
    "ink sketch",
    "pixel art",
    "35mm film",
    "art nouveau poster",
    "claymation",
    "ukiyo-e print",
]
LIGHTS = ["soft morning light", "golden hour", "dramatic rim light", "overcast", "candlelight", "moonlight"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--predictions", type=int, default=100_000)
    parser.add_argument(
        "--outputs", type=int, default=200_000, help="stored outputs, one to four per succeeded prediction"
    )
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument(
        "--first-stage",
        type=float,
        default=0.1,
        help="share of the seed inserted first, where query counts are taken a first time",
    )
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page before them")
    parser.add_argument("--seed", type=int, default=6, help="random seed of the generated data")
    parser.add_argument("--profile", action="store_true", help="profile every page, not only those that miss")
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the seeded database for inspection (the next run drops it)"
    )
    harness.add_common_arguments(parser)


def _check_arguments(args: argparse.Namespace) -> None:
    if args.members < 1 or args.predictions < args.members:
        raise BenchError("--members must be at least 1 and --predictions at least --members")
    if not 0 < args.first_stage < 1:
        raise BenchError("--first-stage must be between 0 and 1")
    if args.requests < 1 or args.warmup < 0:
        raise BenchError("--requests must be at least 1 and --warmup at least 0")


# --- Seeding ------------------------------------------------------------------------------------------


class Rows:
    """Rows of one table, by stage, as tuples in the table's column order. A column not given
    takes the model field's default, as the ORM would."""

    def __init__(self, model: Any) -> None:
        self.model = model
        fields = model._meta.concrete_fields
        self.names = [f.attname for f in fields]
        self.columns = [f.column for f in fields]
        self.defaults = [None if f.primary_key else f.get_default() for f in fields]
        self.json = [f.get_internal_type() == "JSONField" for f in fields]
        self.stages: tuple[list[tuple], list[tuple]] = ([], [])

    def add(self, stage: int, **values: Any) -> None:
        if unknown := values.keys() - set(self.names):
            raise BenchError(f"{self.model.__name__} has no field {sorted(unknown)}")
        self.stages[stage].append(tuple(values.get(n, d) for n, d in zip(self.names, self.defaults, strict=True)))

    def copy(self, stage: int) -> int:
        """COPY the stage's rows in, then move the id sequence past them; returns the row count."""
        from django.db import connection
        from psycopg.types.json import Jsonb

        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(column) for column in self.columns)
        rows = self.stages[stage]
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([Jsonb(v) if j else v for v, j in zip(row, self.json, strict=True)])
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {table}))",  # noqa: S608
                [self.model._meta.db_table],
            )
        return len(rows)


@dataclass
class Planned:
    """One prediction decided in the first pass (the outputs are spread over them afterwards)."""

    owner: int
    created: datetime
    model: int
    status: str
    review: str = "pending"
    files_deleted: bool = False
    outputs: int = 0
    cap: int = 1  # most images the model makes at once


def _plan(
    args: argparse.Namespace, owners: list[int], specs: list[Any], rng: random.Random, now: datetime
) -> list[Planned]:
    # A few heavy users and a long tail: the busiest member has about 1 prediction in 7.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(owners))]
    model_weights = [weight for _id, weight in MODELS]
    statuses, status_weights = zip(*FINISHED, strict=True)
    running_from = args.predictions - max(1, args.predictions // 500)
    times = sorted(now - HISTORY_SPAN * rng.random() for _ in range(args.predictions))
    planned = []
    for index, created in enumerate(times):
        model = rng.choices(range(len(specs)), model_weights)[0]
        status = rng.choice(RUNNING) if index >= running_from else rng.choices(statuses, status_weights)[0]
        number = specs[model].field("num_outputs")
        item = Planned(
            rng.choices(owners, weights)[0], created, model, status, cap=int(number.maximum or 4) if number else 1
        )
        if status == "succeeded":
            # The older a prediction, the likelier someone has reviewed it.
            age = (now - created) / HISTORY_SPAN
            pending = 0.05 + 0.6 * (1 - age) ** 3
            draw = rng.random()
            item.review = "pending" if draw < pending else ("rejected" if draw < pending + 0.06 else "approved")
            item.files_deleted = item.review == "rejected" and rng.random() < 0.4
            if not item.files_deleted:
                item.outputs = rng.choice([1, 2, 4, 4]) if item.cap > 1 else 1
        planned.append(item)
    _spread_outputs(planned, args.outputs, rng)
    return planned


def _spread_outputs(planned: list[Planned], target: int, rng: random.Random) -> None:
    """Change the image counts of multi-image predictions until they add up to `target` (or the
    models' limits stop it)."""
    multi = [item for item in planned if item.outputs and item.cap > 1]
    rng.shuffle(multi)
    total = sum(item.outputs for item in planned)
    step = 1 if total < target else -1
    changed = True
    while total != target and changed:
        changed = False
        for item in multi:
            if total == target:
                break
            if 1 <= item.outputs + step <= item.cap:
                item.outputs += step
                total += step
                changed = True


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(MONEY)


def _generate(args: argparse.Namespace, owners: list[int], reviewer: int, admin: int) -> dict[str, Rows]:
    """Every seeded row, by stage (0: the first stage, 1: the rest)."""
    from django.utils import timezone

    from albums.models import Collection, CollectionItem, ShareLink
    from billing.models import LedgerEntry
    from catalog import specs as catalog
    from notifications.models import Notification
    from predictions.models import Prediction, PredictionOutput, Prompt

    rng = random.Random(args.seed)
    now = timezone.now()
    specs = [catalog.get_model(model_id) for model_id, _weight in MODELS]
    if None in specs:
        raise BenchError("a model of the benchmark's mix is no longer in the catalog: update bench/pages.py")
    planned = _plan(args, owners, specs, rng, now)
    tables = {
        "prompts": Rows(Prompt),
        "predictions": Rows(Prediction),
        "outputs": Rows(PredictionOutput),
        "ledger": Rows(LedgerEntry),
        "collections": Rows(Collection),
        "collection items": Rows(CollectionItem),
        "share links": Rows(ShareLink),
        "notifications": Rows(Notification),
    }
    prompts, predictions, outputs, ledger, notifications = (
        tables[name] for name in ("prompts", "predictions", "outputs", "ledger", "notifications")
    )
    stored: dict[int, tuple[list[int], list[int]]] = {}  # owner → their stored outputs' ids, by stage
    texts: dict[int, str] = {}
    recent: dict[int, list[tuple[int, int, int]]] = {}  # owner → their last prompts: (id, stage, last prediction)
    output_id = ledger_id = 0
    for pk, item in enumerate(planned, start=1):
        spec, created = specs[item.model], item.created
        mine = recent.setdefault(item.owner, [])
        source = None
        if mine and rng.random() < 0.08:  # run again, or a prompt reused from the library
            prompt_id, stage, last = rng.choice(mine)
            source = last if rng.random() < 0.6 else None
        else:
            prompt_id, stage = len(texts) + 1, 0 if rng.random() < args.first_stage else 1
            texts[prompt_id] = (
                f"{rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)} {rng.choice(ACTIONS)} "
                f"{rng.choice(PLACES)}, {rng.choice(STYLES)}, {rng.choice(LIGHTS)}"
            )
            name = texts[prompt_id].split(",")[0][:60] if rng.random() < 0.01 else ""  # in the prompt library
            prompts.add(stage, id=prompt_id, owner_id=item.owner, text=texts[prompt_id], name=name, created_at=created)
            mine.append((prompt_id, stage, pk))
            del mine[:-20]
        for position, entry in enumerate(mine):
            if entry[0] == prompt_id:
                mine[position] = (prompt_id, stage, pk)

        succeeded = item.status == "succeeded"
        images = item.outputs if item.outputs else (rng.randint(1, item.cap) if succeeded else 0)
        requested = images if succeeded else rng.randint(1, item.cap)
        if succeeded and item.cap > 1 and images < item.cap and rng.random() < 0.03:
            requested = images + 1  # DeerAPI made fewer than asked: settled to what it made
        fields: dict[str, Any] = {"prompt": texts[prompt_id]}
        if spec.field("num_outputs"):
            fields["num_outputs"] = requested
        estimated = _money(spec.price * requested)
        remote = f"{rng.getrandbits(96):024x}"
        submitted = None if item.status == "queued" else created + timedelta(seconds=0.3)
        started = None if item.status in NOT_STARTED else submitted + timedelta(seconds=rng.uniform(0.5, 4))
        finished = item.status in ("succeeded", "failed", "canceled")
        completed = started + timedelta(seconds=rng.uniform(1.5, 25)) if finished else None
        reviewed = min(now, completed + timedelta(hours=rng.uniform(0.1, 72))) if item.review != "pending" else None
        deleted = reviewed + timedelta(days=1) if item.files_deleted else None
        urls = [f"https://files.deerapi.example/{remote}/out-{k}.{spec.default_output_format}" for k in range(images)]
        seed = rng.randrange(2**31)
        predictions.add(
            stage,
            id=pk,
            owner_id=item.owner,
            prompt_id=prompt_id,
            model_id=spec.id,
            input=fields,
            status=item.status,
            deerapi_id="" if item.status in NOT_SENT else remote,
            error=rng.choice(FAILURES)
            if item.status == "failed"
            else ("Sent to DeerAPI, no answer (read timeout)" if item.status == "unknown" else ""),
            logs=f"Using seed: {seed}\n" if started else "",
            metrics={"predict_time": round(rng.uniform(1.5, 25), 2), "image_count": images} if succeeded else {},
            created_at=created,
            submitted_at=submitted,
            started_at=started,
            completed_at=completed,
            next_poll_at=created + timedelta(seconds=1) if item.status in RUNNING else None,
            poll_count=rng.randint(1, 8) if started else 0,
            attempts=1 if submitted else 0,
            remote_output=urls if succeeded else [],
            seed=seed if started else None,
            source_id=source,
            price=spec.price,
            estimated_cost=estimated,
            actual_cost=_money(spec.price * images) if finished else None,
            image_count=images if finished else None,
            review_state=item.review,
            reviewed_by_id=reviewer if reviewed else None,
            reviewed_at=reviewed,
            review_reason="Off brief: the colours do not match the campaign." if item.review == "rejected" else "",
            is_private=rng.random() < 0.04,
            files_deleted_at=deleted,
        )
        ledger_id += 1
        ledger.add(
            stage,
            id=ledger_id,
            user_id=item.owner,
            prediction_id=pk,
            kind="reserve",
            amount=estimated,
            model_id=spec.id,
            created_at=created,
        )
        if finished:
            owed = _money(spec.price * images) if succeeded else Decimal("0.0000")
            if owed != estimated:
                ledger_id += 1
                ledger.add(
                    stage,
                    id=ledger_id,
                    user_id=item.owner,
                    prediction_id=pk,
                    kind="settle" if succeeded else "refund",
                    amount=owed - estimated,
                    model_id=spec.id,
                    created_at=completed,
                )
        svg = spec.output == "svg"
        for index in range(item.outputs):
            output_id += 1
            folder = created.strftime("%Y/%m")
            outputs.add(
                stage,
                id=output_id,
                prediction_id=pk,
                index=index,
                source_url=urls[index],
                file=f"outputs/{folder}/{pk}-{index}.{'svg' if svg else 'webp'}",
                thumbnail="" if svg else f"thumbs/{folder}/{pk}-{index}.webp",
                content_type="image/svg+xml" if svg else "image/webp",
                size=rng.randint(60_000, 2_500_000),
                width=None if svg else 1024,
                height=None if svg else 1024,
                checksum=f"{rng.getrandbits(256):064x}",
                created_at=completed,
            )
            if not deleted:
                stored.setdefault(item.owner, ([], []))[stage].append(output_id)
    for _ in range(2 * len(owners)):  # an admin's corrections, now and then
        ledger_id += 1
        ledger.add(
            0,
            id=ledger_id,
            user_id=rng.choice(owners),
            kind="adjustment",
            amount=Decimal(rng.choice(["5.0000", "-2.5000", "10.0000", "-1.2000"])),
            reason="Credit for a batch DeerAPI charged twice",
            created_by_id=admin,
            created_at=now - HISTORY_SPAN * rng.random(),
        )
    _collections(tables, owners, stored, rng, now)
    # Budget alerts over the months: two a month for every member, many more for the busiest
    # (pages of them); the older half read. Oldest first, the first stage's half of each.
    params = {"threshold": 80, "spent": "$40.00", "budget": "$50.00", "resets": "2025-07-01T00:00:00+00:00"}
    notification_id = 0
    for owner in owners:
        count = 300 if owner == owners[0] else 12
        for n in range(count):
            notification_id += 1
            created = now - HISTORY_SPAN * (1 - n / count)
            notifications.add(
                0 if n < count // 2 else 1,
                id=notification_id,
                recipient_id=owner,
                kind="budget.member",
                params=params,
                url="/usage/",
                created_at=created,
                read_at=created + timedelta(hours=2) if n < count // 2 else None,
            )
    return tables


BIG_COLLECTION = 1000  # images in the busiest member's first collection (albums' COLLECTION_MAX)
SHARE_TOKEN = "bench-share-link-token"  # noqa: S105 - of a live link to that collection, in a throwaway database


def _collections(
    tables: dict[str, Rows],
    owners: list[int],
    stored: dict[int, tuple[list[int], list[int]]],
    rng: random.Random,
    now: datetime,
) -> None:
    """Three collections per member (every other one the team's), of 5 to 60 of their images, and
    the busiest member's first one of BIG_COLLECTION, half from each stage, with a live share link."""
    from accounts.tokens import token_hash

    collection_id = item_id = 0
    for n, owner in enumerate(owners):
        by_stage = stored.get(owner, ([], []))
        for k in range(3):
            collection_id += 1
            tables["collections"].add(
                0,
                id=collection_id,
                owner_id=owner,
                name=f"{rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)} {k + 1}",
                visibility="team" if k % 2 == 0 else "private",
                created_at=now - timedelta(days=k + 1, minutes=n),
            )
            big = n == 0 and k == 0
            for stage, pool in enumerate(by_stage):
                size = min(len(pool), BIG_COLLECTION // 2 if big else rng.randint(3, 30))
                for output_id in rng.sample(pool, size):
                    item_id += 1
                    tables["collection items"].add(
                        stage,
                        id=item_id,
                        collection_id=collection_id,
                        output_id=output_id,
                        created_at=now - timedelta(days=30) * rng.random(),
                    )
            if big:
                tables["share links"].add(
                    0,
                    id=1,
                    collection_id=collection_id,
                    token_hash=token_hash(SHARE_TOKEN),
                    show_prompt=True,
                    expires_at=now + timedelta(days=30),
                    # Opened a moment ago: no opening during the run is due for the audit log (at most
                    # one an hour), so every measured request costs the same queries.
                    audited_open_at=now,
                    created_by_id=owner,
                    created_at=now,
                )


def _people(members: int) -> tuple[list[int], int, int]:
    """Members (the first is the busiest), a reviewer and an admin, with their roles; the team's
    limits. Returns (member ids, reviewer id, admin id)."""
    from accounts import roles
    from billing.models import MemberQuota, TeamSettings
    from predictions.models import User

    groups = roles.role_groups_ensure()
    users = [User(username=f"bench-member-{n:02d}", email=f"member{n}@example.com") for n in range(1, members + 1)]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users)
    owners = list(User.objects.filter(username__startswith="bench-member-").order_by("username"))
    groups[roles.MEMBER].user_set.add(*owners)
    reviewer = User.objects.create_user("bench-reviewer", "reviewer@example.com")
    reviewer.groups.add(groups[roles.REVIEWER])
    admin = User.objects.create_superuser("bench-admin", "admin@example.com")
    admin.groups.add(groups[roles.ADMIN])
    TeamSettings.objects.update_or_create(
        pk=1,
        defaults={"default_budget": Decimal("50"), "default_period": "month", "team_monthly_budget": Decimal("2500")},
    )
    MemberQuota.objects.bulk_create(
        [
            MemberQuota(user=user, budget=Decimal(40 + 20 * (n % 4)), period="month", max_in_flight=20)
            for n, user in enumerate(owners)
            if n % 2 == 0
        ]
    )
    return [user.pk for user in owners], reviewer.pk, admin.pk


def _insert(tables: dict[str, Rows], stage: int) -> dict[str, int]:
    """COPY one stage in and ANALYZE; prints what it added, returns the tables' row counts so far."""
    from django.db import connection

    started = time.perf_counter()
    added = {name: rows.copy(stage) for name, rows in tables.items()}
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done by now on a live database
    print(
        f"Seeded stage {stage + 1}: +{added['predictions']:,} predictions, +{added['outputs']:,} outputs, "
        f"+{added['prompts']:,} prompts, +{added['ledger']:,} ledger entries, "
        f"+{added['collection items']:,} collection items in "
        f"{time.perf_counter() - started:.1f} s (COPY, then VACUUM ANALYZE)",
        flush=True,
    )
    return {name: sum(len(rows.stages[s]) for s in range(stage + 1)) for name, rows in tables.items()}


def _composition(member_id: int) -> str:
    """What the seeded database holds, in one line."""
    from django.db.models import Count

    from predictions.models import Prediction

    statuses = Counter(dict(Prediction.objects.values_list("status").annotate(n=Count("pk")).order_by()))
    reviews = Counter(
        dict(
            Prediction.objects.filter(status="succeeded").values_list("review_state").annotate(n=Count("pk")).order_by()
        )
    )
    total = sum(statuses.values())
    mix = ", ".join(f"{n / total:.1%} {status}" for status, n in statuses.most_common(4))
    return (
        f"Seeded: {mix}, {total - sum(n for _s, n in statuses.most_common(4)):,} still running; of the succeeded "
        f"{reviews['approved']:,} approved, {reviews['rejected']:,} rejected, {reviews['pending']:,} waiting for "
        f"review; the busiest member (measured as 'member') has "
        f"{Prediction.objects.filter(owner_id=member_id).count():,} predictions"
    )


# --- Pages ----------------------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    who: str  # "member", "reviewer" or "admin"
    url: str
    rows: Callable[[Any], int]  # the rows the page shows, from its template context
    # URLs whose query counts must equal each other (page 2 and a short last page, ...), computed
    # at full size; the last one is also timed when `time_deeper`.
    deeper: Callable[[], list[tuple[str, str]]] | None = None
    time_deeper: bool = True


@dataclass
class Measured:
    page: Page
    times: list[float] = field(default_factory=list)  # seconds
    cpu: list[float] = field(default_factory=list)  # this process's CPU seconds per request (no PostgreSQL)
    queries: int = 0
    rows: int = 0
    first_queries: int = 0  # at the first stage
    first_rows: int = 0
    deeper: list[tuple[str, int, int]] = field(default_factory=list)  # (label, queries, rows)
    deeper_times: list[float] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)

    @property
    def p95_ms(self) -> float:
        return harness.percentile(self.times, 95) * 1000

    @property
    def time_ok(self) -> bool:
        return self.p95_ms <= P95_TARGET_MS

    @property
    def cpu_ms(self) -> float:
        return harness.percentile(self.cpu, 50) * 1000

    @property
    def cpu_ok(self) -> bool:
        return self.cpu_ms <= CPU_TARGET_MS

    @property
    def queries_ok(self) -> bool:
        return self.queries == self.first_queries and len({queries for _l, queries, _r in self.deeper}) <= 1


def _url(name: str, params: dict[str, Any] | None = None, *args: Any) -> str:
    from django.urls import reverse

    query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")})
    return reverse(name, args=args) + (f"?{query}" if query else "")


def _keyset(name: str, params: dict[str, Any], ids: Callable[[], list[int]], size: int, *args: Any) -> Callable:
    """Page 2 and a last page of a third of a page, of a keyset-paged list (`after=<id>`); `args`: the URL's."""

    def deeper() -> list[tuple[str, str]]:
        rows = ids()
        pages = []
        if len(rows) > size:
            pages.append(("page 2", _url(name, {**params, "after": rows[size - 1]}, *args)))
        short = max(1, size // 3)
        if len(rows) > size + short:
            pages.append((f"last page ({short} rows)", _url(name, {**params, "after": rows[-short - 1]}, *args)))
        return pages

    return deeper


def _numbered(name: str, params: dict[str, Any], count: Callable[[], int], size: int, param: str) -> Callable:
    """Page 2 and the last page of a list paged by number."""

    def deeper() -> list[tuple[str, str]]:
        last = math.ceil(count() / size)
        pages = [("page 2", _url(name, {**params, param: 2}))] if last >= 2 else []
        if last > 2:
            pages.append((f"last page ({last})", _url(name, {**params, param: last})))
        return pages

    return deeper


def _pages(member: Any) -> tuple[list[Page], list[int]]:
    """What is measured, and the predictions whose detail page is. Filters are taken from the
    member's first-stage rows, so that every filtered page shows rows at the first stage too."""
    from django.db.models import Count
    from django.utils import timezone

    from albums import selectors as albums_selectors
    from albums import views as albums_views
    from albums.models import Collection, ShareLink
    from billing import selectors as billing_selectors
    from billing import services as billing
    from billing import views as usage_views
    from notifications import selectors as notification_selectors
    from notifications import views as notification_views
    from predictions import playground, selectors, views
    from predictions.admin import PredictionAdmin
    from predictions.models import Prediction
    from reviews import selectors as reviews_selectors
    from reviews import views as review_views

    mine = Prediction.objects.filter(owner=member)
    statuses = Counter(mine.values_list("status", flat=True))
    status = max(("failed", "canceled", "unknown"), key=lambda s: statuses[s])
    models = [model for model, _n in Counter(mine.values_list("model_id", flat=True)).most_common(2)]
    newest = mine.select_related("prompt").order_by("-created_at").first()
    word = next(word for word in SUBJECTS if word in newest.prompt.text)
    dates = sorted(mine.values_list("created_at", flat=True))
    middle = timezone.localdate(dates[len(dates) // 2])
    since, until = middle - timedelta(days=14), middle + timedelta(days=15)
    succeeded = mine.filter(status="succeeded", files_deleted_at__isnull=True).annotate(n=Count("outputs"))
    many = succeeded.order_by("-n", "-created_at").first()
    if many is None:
        raise BenchError("the busiest member has no succeeded prediction at the first stage: seed more")
    one = succeeded.filter(n=1).order_by("-created_at").first() or many

    def history(params: dict[str, Any]) -> Page:
        size = views.GRID_PAGE_SIZE if params.get("view") == "grid" else views.PAGE_SIZE
        filters = {
            "status": params.get("status", ""),
            "model_id": params.get("model", ""),
            "search": params.get("q", ""),
            "since": since if "from" in params else None,
            "until": until if "to" in params else None,
        }
        ids = lambda: list(selectors.prediction_history(member, **filters).values_list("pk", flat=True))  # noqa: E731
        return Page(
            "",
            "member",
            _url("predictions:list", params),
            lambda c: len(c["page"].rows),
            _keyset("predictions:list", params, ids, size),
        )

    def home(who: str) -> Page:
        return Page("", who, _url("home"), lambda c: len(c["results"]) + len(c["running"]))

    pages = [
        ("Home", home("member")),
        ("Home, reviewer", home("reviewer")),
        ("Home, admin", home("admin")),
        ("History", history({})),
        (f"History, status {status}", history({"status": status})),
        (f"History, model {models[-1].split('/')[-1]}", history({"model": models[-1]})),
        ("History, 30 days", history({"from": since.isoformat(), "to": until.isoformat()})),
        (f"History, search “{word}”", history({"q": word})),
        ("History, grid view", history({"view": "grid"})),
        (
            f"Detail ({many.n} outputs)",
            Page(
                "",
                "member",
                _url("predictions:detail", None, many.pk),
                lambda c: len(c["outputs"]),
                lambda: [
                    (f"{one.n} output", _url("predictions:detail", None, one.pk)),
                    (f"{many.n} outputs", _url("predictions:detail", None, many.pk)),
                ],
                time_deeper=False,
            ),
        ),
        (
            f"Playground ({playground.RESULTS_MAX} results)",
            Page("", "member", _url("predictions:new"), lambda c: len(c["results"])),
        ),
        (
            "Gallery",
            Page(
                "",
                "member",
                _url("gallery:list"),
                lambda c: len(c["predictions"]),
                _keyset(
                    "gallery:list",
                    {},
                    lambda: list(reviews_selectors.gallery().values_list("pk", flat=True)),
                    review_views.GALLERY_PAGE_SIZE,
                ),
            ),
        ),
        (
            "Review queue",
            Page(
                "",
                "reviewer",
                _url("review:queue"),
                lambda c: len(c["predictions"]),
                _keyset(
                    "review:queue",
                    {},
                    lambda: list(reviews_selectors.review_queue().values_list("pk", flat=True)),
                    review_views.QUEUE_PAGE_SIZE,
                ),
            ),
        ),
    ]
    big = Collection.objects.filter(owner=member).annotate(n=Count("items")).order_by("-n").first()
    link = ShareLink.objects.select_related("collection", "created_by").get(collection=big)
    pages += [
        (
            "Collections",
            Page(
                "",
                "member",
                _url("collections:list"),
                lambda c: len(c["collections"]),
                _keyset(
                    "collections:list",
                    {},
                    lambda: list(albums_selectors.collections_seen_by(member).values_list("pk", flat=True)),
                    albums_views.LIST_PAGE_SIZE,
                ),
            ),
        ),
        (
            "Collection (1,000 images)",
            Page(
                "",
                "member",
                _url("collections:detail", None, big.pk),
                lambda c: len(c["items"]),
                _keyset(
                    "collections:detail",
                    {},
                    lambda: list(albums_selectors.collection_items(member, big).values_list("pk", flat=True)),
                    albums_views.ITEMS_PAGE_SIZE,
                    big.pk,
                ),
            ),
        ),
        (
            "Share link page",
            Page(
                "",
                "member",
                _url("share:page", None, SHARE_TOKEN),
                lambda c: len(c["items"]),
                _keyset(
                    "share:page",
                    {},
                    lambda: list(albums_selectors.share_items(link).values_list("pk", flat=True)),
                    albums_views.SHARE_PAGE_SIZE,
                    SHARE_TOKEN,
                ),
            ),
        ),
    ]
    today = timezone.localdate()
    month = (billing.midnight(today.replace(day=1)), billing.midnight(today + timedelta(days=1)))

    def ledger(user_id: int | None) -> Callable[[], int]:
        return lambda: billing_selectors.ledger_entries(user_id=user_id, start=month[0], end=month[1]).count()

    pages += [
        (
            "Usage",
            Page(
                "",
                "member",
                _url("usage:mine"),
                lambda c: len(c["page"].object_list),
                _numbered("usage:mine", {}, ledger(member.pk), usage_views.LEDGER_PAGE, "page"),
            ),
        ),
        (
            "Team usage",
            Page(
                "",
                "admin",
                _url("usage:team"),
                lambda c: len(c["page"].object_list),
                _numbered("usage:team", {}, ledger(None), usage_views.LEDGER_PAGE, "page"),
            ),
        ),
        (
            "Notifications",
            Page(
                "",
                "member",
                _url("notifications:list"),
                lambda c: len(c["items"]),
                _numbered(
                    "notifications:list",
                    {},
                    notification_selectors.notifications_of(member.pk).count,
                    notification_views.PAGE,
                    "page",
                ),
            ),
        ),
        ("Budget alert settings", Page("", "admin", _url("alerts:settings"), lambda c: 0)),
        (
            "Admin: predictions",
            Page(
                "",
                "admin",
                _url("admin:predictions_prediction_changelist"),
                lambda c: len(c["cl"].result_list),
                _numbered(
                    "admin:predictions_prediction_changelist",
                    {},
                    Prediction.objects.count,
                    PredictionAdmin.list_per_page,
                    "p",
                ),
            ),
        ),
        (
            f"Admin: predictions, search “{word}”",
            Page(
                "",
                "admin",
                _url("admin:predictions_prediction_changelist", {"q": word}),
                lambda c: len(c["cl"].result_list),
                _numbered(
                    "admin:predictions_prediction_changelist",
                    {"q": word},
                    Prediction.objects.filter(prompt__text__contains_text=word).count,
                    PredictionAdmin.list_per_page,
                    "p",
                ),
            ),
        ),
    ]
    for name, page in pages:
        page.name = name
    return [page for _name, page in pages], [many.pk, one.pk]


def _playground_full(client: Any, member_id: int) -> None:
    """The member's playground lists as many results as it keeps: their newest predictions, as if
    each was submitted from it in this browser session."""
    from predictions import playground
    from predictions.models import Prediction

    newest = Prediction.objects.filter(owner_id=member_id).order_by("-pk").values_list("pk", flat=True)
    session = client.session
    session[playground.SESSION_KEY] = list(newest[: playground.RESULTS_MAX])
    session.save()


def _output_files(prediction_ids: list[int]) -> None:
    """Real image files for the outputs of these predictions, so their detail pages are whole."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    from predictions.models import PredictionOutput

    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), (180, 90, 40)).save(buffer, "WEBP")
    for output in PredictionOutput.objects.filter(prediction_id__in=prediction_ids):
        for name in (output.file.name, output.thumbnail.name):
            if name and not default_storage.exists(name):
                default_storage.save(name, ContentFile(buffer.getvalue()))


# --- Measuring --------------------------------------------------------------------------------------------


def _get(client: Any, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}:\n{response.content[:600]!r}")
    return response


def _count(client: Any, url: str, rows: Callable[[Any], int]) -> tuple[int, int]:
    """(queries, rows shown) of one request; the template context is recorded while counting."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment

    setup_test_environment()
    try:
        with CaptureQueriesContext(connection) as captured:
            response = _get(client, url)
        return len(captured), rows(response.context)
    finally:
        teardown_test_environment()


def _time(client: Any, url: str, args: argparse.Namespace) -> tuple[list[float], list[float]]:
    """Wall time and this process's CPU time of each timed request."""
    for _ in range(args.warmup):
        _get(client, url)
    times, cpu = [], []
    for _ in range(args.requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        _get(client, url)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return times, cpu


def _profile(client: Any, url: str) -> list[str]:
    """Why a page is slow: SQL against Python time, the slowest query's plan, and where the
    Python time goes (cProfile: own time, then DeerWeb's functions with what they call)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        _get(client, url)
        total = time.perf_counter() - started
    queries = [(float(q["time"]), q["sql"]) for q in captured.captured_queries]
    sql_seconds = sum(seconds for seconds, _sql in queries)
    lines = [
        f"One request: {total * 1000:.1f} ms; SQL {sql_seconds * 1000:.1f} ms of it in {len(queries)} queries "
        f"({sql_seconds / total:.0%}), the rest in Python"
    ]
    selects = [(seconds, sql) for seconds, sql in queries if sql.lstrip().upper().startswith("SELECT")]
    if selects:
        seconds, sql = max(selects)
        lines.append(f"Slowest query ({seconds * 1000:.1f} ms): {sql[:600]}{' …' if len(sql) > 600 else ''}")
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = [row[0] for row in cursor.fetchall()]
        lines += ["  " + line for line in plan[:PLAN_LINES]]
        if len(plan) > PLAN_LINES:
            lines.append(f"  … {len(plan) - PLAN_LINES} more lines; " + plan[-1].strip())
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED_REQUESTS):
        _get(client, url)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    entries = [(own, cumulative, calls, where) for where, (_p, calls, own, cumulative, _c) in stats.items()]

    def line(own: float, cumulative: float, calls: int, where: tuple[str, int, str]) -> str:
        path, number, name = where
        path = path.split("site-packages/", 1)[-1].removeprefix(str(harness.ROOT) + "/")
        return (
            f"  {own / PROFILED_REQUESTS * 1000:6.1f} ms own {cumulative / PROFILED_REQUESTS * 1000:7.1f} ms "
            f"with callees {calls // PROFILED_REQUESTS:6d} calls  {path}:{number} {name}"
        )

    lines.append(f"cProfile, per request (mean of {PROFILED_REQUESTS}; profiling slows it): most time spent in")
    lines += [line(*entry) for entry in sorted(entries, reverse=True)[:10]]
    lines.append("  DeerWeb's functions with the most time, callees included:")
    ours = [entry for entry in entries if "/predictions/" in entry[3][0] and "site-packages" not in entry[3][0]]
    lines += [line(*entry) for entry in sorted(ours, key=lambda entry: -entry[1])[:8]]
    return lines


# --- Printing ---------------------------------------------------------------------------------------------


def _ms(seconds_list: list[float], q: float) -> str:
    return f"{harness.percentile(seconds_list, q) * 1000:.1f} ms" if seconds_list else "–"


def _result(measured: Measured) -> str:
    checks = ((measured.time_ok, "p95"), (measured.cpu_ok, "CPU"), (measured.queries_ok, "queries"))
    misses = [name for ok, name in checks if not ok]
    return "PASS" if not misses else f"MISS ({', '.join(misses)})"


def _table(results: list[Measured], first_label: str) -> str:
    rows = []
    for m in results:
        deeper = ", ".join(f"{label}: {queries} ({shown} rows)" for label, queries, shown in m.deeper) or "–"
        rows.append(
            [
                m.page.name,
                m.page.who,
                str(m.rows),
                _ms(m.times, 50),
                _ms(m.times, 95),
                _ms(m.cpu, 50),
                str(m.queries),
                f"{m.first_queries} ({m.first_rows} rows)",
                deeper,
                _ms(m.deeper_times, 95),
                _result(m),
            ]
        )
    headers = [
        "Page",
        "As",
        "Rows",
        "Median",
        "p95",
        "CPU median",
        "Queries",
        first_label,
        "Queries deeper",
        "p95 deeper",
        "Result",
    ]
    return harness.table(headers, rows)


# --- The run ---------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    print("== Pages: server time and SQL queries on a seeded database ==")
    print(f"Command: {harness.command_line()}")
    for line in harness.machine_lines(args.database_url, args.redis_url):
        print(line)
    print(
        f"Data: {args.predictions:,} predictions and {args.outputs:,} outputs across {args.members} members over "
        f"{HISTORY_SPAN.days} days; query counts first at {args.first_stage:.0%} of them"
    )
    print(
        f"Each page: {args.warmup} untimed then {args.requests} timed requests through Django's test Client in "
        "this process (production settings, DEBUG off); server time per request"
    )
    print(flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="deerweb-bench-pages-"))
    try:
        results, seeded = _measure(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        _close_connections()
        if not args.keep_database:
            harness.database_drop(args.database_url)
    first = seeded[0]
    print(_table(results, f"At {first['predictions']:,} predictions"))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"CPU median: this process only (Python; PostgreSQL's time is in the wall time). Load average at the "
        f"end: {load}"
    )
    print()
    print(
        f"Target: p95 ≤ {P95_TARGET_MS:g} ms, CPU median ≤ {CPU_TARGET_MS:g} ms and a query count that does not "
        f"grow with rows (the same at "
        f"{first['predictions']:,} and {seeded[1]['predictions']:,} predictions, on page 2 and on the last page, "
        "with one output and with four)"
    )
    slow = [m for m in results if not m.time_ok]
    costly = [m for m in results if not m.cpu_ok]
    growing = [m for m in results if not m.queries_ok]
    worst = max(results, key=lambda m: m.p95_ms)
    print(
        f"  {'PASS' if not slow else 'MISS'}  p95 ≤ {P95_TARGET_MS:g} ms on every page: slowest "
        f"{worst.page.name} at {worst.p95_ms:.1f} ms"
        + (f"; missed by {', '.join(m.page.name for m in slow)}" if slow else "")
    )
    heaviest = max(results, key=lambda m: m.cpu_ms)
    print(
        f"  {'PASS' if not costly else 'MISS'}  CPU median ≤ {CPU_TARGET_MS:g} ms on every page: heaviest "
        f"{heaviest.page.name} at {heaviest.cpu_ms:.1f} ms"
        + (f"; missed by {', '.join(m.page.name for m in costly)}" if costly else "")
    )
    print(
        f"  {'PASS' if not growing else 'MISS'}  constant query counts on every page"
        + (f"; not on {', '.join(m.page.name for m in growing)}" if growing else "")
    )
    for m in results:
        if m.profile:
            print()
            print(f"-- Profile: {m.page.name} ({m.page.url}) --")
            for line in m.profile:
                print(line)
    return 0


def _close_connections() -> None:
    """Before the database is dropped; nothing to do when Django was never set up."""
    from django.conf import settings
    from django.db import connections

    if settings.configured:
        connections.close_all()


def _measure(args: argparse.Namespace, scratch: Path) -> tuple[list[Measured], list[dict[str, int]]]:
    harness.database_recreate(args.database_url)
    harness.django_start(
        args.database_url,
        args.redis_url,
        queue=harness.queue_name(args.database_url, "pages"),
        media_root=scratch / "media",
    )
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    from predictions.models import User

    # Production's static files storage (hashed names from a manifest) needs collectstatic.
    override_settings(STATIC_ROOT=str(scratch / "static")).enable()
    call_command("collectstatic", "--noinput", verbosity=0)

    started = time.perf_counter()
    owners, reviewer, admin = _people(args.members)
    tables = _generate(args, owners, reviewer, admin)
    print(f"Generated every row in {time.perf_counter() - started:.1f} s", flush=True)
    seeded = [_insert(tables, 0)]

    clients = {}
    for who, pk in (("member", owners[0]), ("reviewer", reviewer), ("admin", admin)):
        clients[who] = Client(HTTP_HOST="localhost")
        clients[who].force_login(User.objects.get(pk=pk))
    _playground_full(clients["member"], owners[0])
    pages, detail = _pages(User.objects.get(pk=owners[0]))
    results = [Measured(page) for page in pages]
    for m in results:
        m.first_queries, m.first_rows = _count(clients[m.page.who], m.page.url, m.page.rows)

    seeded.append(_insert(tables, 1))
    _playground_full(clients["member"], owners[0])
    del tables
    gc.collect()  # the generated rows are garbage now; a server process would not carry them
    print(_composition(owners[0]), flush=True)
    _output_files(detail)
    for m in results:
        client = clients[m.page.who]
        m.queries, m.rows = _count(client, m.page.url, m.page.rows)
        m.times, m.cpu = _time(client, m.page.url, args)
        deeper = m.page.deeper() if m.page.deeper else []
        for label, url in deeper:
            queries, shown = _count(client, url, m.page.rows)
            m.deeper.append((label, queries, shown))
        if deeper and m.page.time_deeper:
            m.deeper_times, _cpu = _time(client, deeper[-1][1], args)
        if args.profile or not m.time_ok:
            m.profile = _profile(client, m.page.url)
        print(f"  measured {m.page.name}: p95 {m.p95_ms:.1f} ms, {m.queries} queries", flush=True)
    # The images of the measured detail pages are served, not just linked.
    for pk in detail:
        _get(clients["member"], _url("predictions:output", None, pk, 0))
        _get(clients["member"], _url("predictions:thumbnail", None, pk, 0))
    print()
    return results, seeded
