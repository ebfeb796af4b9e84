"""Submit benchmark: many members submitting at once through the real form, against their budgets.

A dedicated PostgreSQL database (dropped, created and migrated at the start) holds `--members`
members, each with a monthly budget of 1 to 3 times what `--per-member` one-image predictions cost,
under a team budget of 60 % of their budgets together, so that members run out of budget and then
the team does. Each member has a thread of its own, logged in with Django's test Client, with its
own database connection (closed at the end). The threads wait at a barrier, then each POSTs
`--per-member` predictions of 1 to 4 images to /predictions/new/, one after the other: the real
view, form, quota check under row locks, ledger entry and `transaction.on_commit` enqueue. The
predictions wait, queued and due, for the workers' pollers; none runs here, and the run's own
Redis queue (where a submit task would go with DEERWEB_POLL_THREADS=0) is deleted at the end.

Figures: latency of each POST (median, p95, max; accepted and refused apart), submissions per
second from the barrier to the last answer, and the check that the quota is never overspent: for
every member and for the team, the ledger's reservations this month ≤ the budget. Also checked:
one prediction, one reserve entry and one queued row per accepted submission, none per refusal,
and no message sent (the pollers claim queued rows).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import harness
from .harness import BenchError

MODEL = "black-forest-labs/flux-schnell"
TEAM_SHARE = Decimal("0.6")  # the team's monthly budget, as a share of the members' budgets together


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=50, help="members submitting at once, one thread each")
    parser.add_argument("--per-member", type=int, default=10, help="predictions each member submits")
    parser.add_argument("--seed", type=int, default=6, help="random seed of the budgets and image counts")
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the database for inspection (the next run drops it)"
    )
    harness.add_common_arguments(parser)


@dataclass
class Answer:
    member: int
    seconds: float
    outcome: str  # "accepted", "member budget", "team budget" or "error"
    detail: str = ""


@dataclass
class Figures:
    answers: list[Answer] = field(default_factory=list)
    wall: float = float("nan")
    cpu: float = float("nan")  # this process's CPU seconds during the submissions
    queued: int = 0
    messages: int = 0
    alert_messages: int = 0  # budget alerts' emails and Slack posts
    predictions: int = 0
    reserves: int = 0
    overspent: list[str] = field(default_factory=list)  # who spent more than their budget
    team_budget: Decimal = Decimal(0)
    team_spent: Decimal = Decimal(0)
    members_at_budget: int = 0

    def outcomes(self, outcome: str) -> list[Answer]:
        return [answer for answer in self.answers if answer.outcome == outcome]

    @property
    def accepted(self) -> int:
        return len(self.outcomes("accepted"))


def _budgets(members: list[Any], per_member: int, rng: random.Random) -> tuple[dict[int, Decimal], Decimal, Decimal]:
    """Each member's monthly budget and the team's; set on their quota rows. Returns (budgets, team, price)."""
    from billing.models import MemberQuota, TeamSettings
    from catalog import selectors as catalog_selectors

    spec = catalog_selectors.model_get(MODEL)
    if spec is None:
        raise BenchError(f"{MODEL} is not in the catalog: update bench/submit.py")
    budgets = {member.pk: spec.price * rng.randint(per_member, 3 * per_member) for member in members}
    team = (sum(budgets.values()) * TEAM_SHARE).quantize(Decimal("0.0001"))
    TeamSettings.objects.update_or_create(pk=1, defaults={"team_monthly_budget": team})
    MemberQuota.objects.bulk_create(
        [MemberQuota(user_id=pk, budget=budget, period="month", max_in_flight=None) for pk, budget in budgets.items()]
    )
    return budgets, team, spec.price


def _submit_all(members: list[Any], args: argparse.Namespace, rng: random.Random) -> tuple[list[Answer], float, float]:
    """Every member's submissions, at once; returns the answers, the wall time and this process's CPU time."""
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    url = reverse("predictions:new")
    clients = []
    for member in members:
        client = Client(HTTP_HOST="localhost")
        client.force_login(member)
        if client.get(url).status_code != 200:  # the member opens the form first
            raise BenchError(f"GET {url} did not answer 200")
        clients.append(client)
    images = {(m.pk, n): rng.randint(1, 4) for m in members for n in range(args.per_member)}
    answers: list[Answer] = []
    barrier = threading.Barrier(len(members) + 1)

    def body(member: Any, client: Any) -> None:
        mine = []
        try:
            barrier.wait()
            for n in range(args.per_member):
                data = {
                    "model": MODEL,
                    "prompt": f"bench {n} by {member.username}: a red deer in the snow",
                    "aspect_ratio": "1:1",
                    "num_outputs": str(images[member.pk, n]),
                    "megapixels": "1",
                    "output_format": "webp",
                    "output_quality": "80",
                    "num_inference_steps": "4",
                    "go_fast": "on",
                }
                started = time.perf_counter()
                try:
                    response = client.post(url, data)
                except Exception as exc:  # reported in the figures, never hidden
                    mine.append(Answer(member.pk, time.perf_counter() - started, "error", repr(exc)))
                    continue
                mine.append(Answer(member.pk, time.perf_counter() - started, *_outcome(response)))
        finally:
            connection.close()  # this thread's own connection
            answers.extend(mine)

    threads = [
        threading.Thread(target=body, args=(member, client), name=f"bench-submit-{member.pk}")
        for member, client in zip(members, clients, strict=True)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu_started = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    return answers, time.perf_counter() - started, time.process_time() - cpu_started


def _outcome(response: Any) -> tuple[str, str]:
    if response.status_code == 302 and "/predictions/" in response.get("Location", ""):
        return "accepted", ""
    text = response.content.decode(errors="replace")
    if response.status_code == 400 and "Over your budget" in text:
        return "member budget", ""
    if response.status_code == 400 and "Over the team" in text:
        return "team budget", ""
    return "error", f"HTTP {response.status_code}: {text[:300]}"


def _check(
    figures: Figures, budgets: dict[int, Decimal], team: Decimal, price: Decimal, queue: str, redis_url: str
) -> None:
    """What the database and the queue hold after the run."""
    import redis
    from django.utils import timezone

    from billing import services as billing
    from billing.models import LedgerEntry, LedgerKind, Period
    from predictions.models import Prediction, Status

    month = billing.period_bounds(Period.MONTH, timezone.now())
    assert month is not None
    for pk, budget in budgets.items():
        spent = billing.spent_between(pk, *month)
        if spent > budget:
            figures.overspent.append(f"member {pk}: {spent} of {budget}")
        if budget - spent < price * 4:
            figures.members_at_budget += 1
    figures.team_budget, figures.team_spent = team, billing.spent_between(None, *month)
    if figures.team_spent > team:
        figures.overspent.append(f"the team: {figures.team_spent} of {team}")
    figures.predictions = Prediction.objects.count()
    figures.reserves = LedgerEntry.objects.filter(kind=LedgerKind.RESERVE).count()
    client = redis.Redis.from_url(redis_url)
    figures.queued = Prediction.objects.filter(status=Status.QUEUED).count()
    for key in [queue, *client.scan_iter(match=f"{queue}\x06\x16*")]:
        for message in client.lrange(key, 0, -1):
            # A member reaching a budget alert's threshold enqueues its email and Slack post.
            if json.loads(message).get("headers", {}).get("task", "").startswith("alerts.tasks."):
                figures.alert_messages += 1
            else:
                figures.messages += 1


def _ms(values: list[float], q: float) -> str:
    return f"{harness.percentile(values, q) * 1000:.0f} ms" if values else "–"


def _report(figures: Figures, args: argparse.Namespace) -> list[str]:
    total = len(figures.answers)
    member_refused, team_refused = len(figures.outcomes("member budget")), len(figures.outcomes("team budget"))
    errors = figures.outcomes("error")
    rows = []
    for label, answers in (
        ("All", figures.answers),
        ("Accepted", figures.outcomes("accepted")),
        ("Refused", figures.outcomes("member budget") + figures.outcomes("team budget")),
    ):
        times = [answer.seconds for answer in answers]
        rows.append([label, str(len(answers)), _ms(times, 50), _ms(times, 95), _ms(times, 100)])
    lines = [
        harness.table(["Submissions", "Count", "Median", "p95", "Max"], rows),
        "",
        f"Outcome: {figures.accepted} accepted; refused {member_refused} over the member's budget and "
        f"{team_refused} over the team's; {len(errors)} errors",
        f"Throughput: {total} submissions in {figures.wall:.2f} s = {total / figures.wall:.1f} per second "
        f"({figures.accepted / figures.wall:.1f} accepted per second)",
        f"This process: {figures.cpu / total * 1000:.1f} ms of CPU per submission, busy "
        f"{figures.cpu / figures.wall:.0%} of the time on one core: the threads share one Python interpreter "
        "lock, so a submission's latency is mostly its wait for it (a server spreads them over worker processes)",
        f"Team: {figures.team_spent} reserved of its {figures.team_budget} monthly budget; "
        f"{figures.members_at_budget} of {args.members} members within one submission of their own budget",
        "",
    ]
    if errors:
        lines.append(f"First error: {errors[0].detail}")
    consistent = figures.accepted == figures.predictions == figures.reserves == figures.queued
    consistent = consistent and figures.messages == 0
    lines += [
        "Targets:",
        f"  {'PASS' if not figures.overspent else 'MISS'}  the quota is never overspent (reservations this month ≤ "
        f"budget, for each of {args.members} members and for the team)"
        + (f": overspent by {'; '.join(figures.overspent)}" if figures.overspent else ""),
        f"  {'PASS' if consistent and not errors else 'MISS'}  every accepted submission is one prediction, one "
        f"reserve entry and one queued row, and nothing else was saved or sent: {figures.accepted} accepted, "
        f"{figures.predictions} predictions, {figures.reserves} reserve entries, {figures.queued} queued, "
        f"{figures.messages} messages (besides {figures.alert_messages} of budget alerts), {len(errors)} errors",
        f"  {'PASS' if member_refused and team_refused else 'MISS'}  the budgets were reached, so the quota "
        f"check was put to the test: {member_refused} refused by a member's budget, {team_refused} by the team's",
    ]
    return lines


def run(args: argparse.Namespace) -> int:
    if args.members < 1 or args.per_member < 1:
        raise BenchError("--members and --per-member must be at least 1")
    print("== Submit: members submitting at once through the real form view ==")
    print(f"Command: {harness.command_line()}")
    for line in harness.machine_lines(args.database_url, args.redis_url):
        print(line)
    print(
        f"Workload: {args.members} members, each in its own thread with its own database connection, POST "
        f"{args.per_member} predictions each to /predictions/new/ at once (Django's test Client in this process, "
        f"production settings); {MODEL}, 1 to 4 images each; the tasks queue in Redis, no worker"
    )
    print(
        f"Budgets: each member 1 to 3 times the cost of {args.per_member} one-image predictions per month; the "
        f"team {TEAM_SHARE:.0%} of the members' budgets together"
    )
    print(flush=True)
    database_url, redis_url = args.database_url, args.redis_url
    queue = harness.queue_name(database_url, "submit")
    scratch = Path(tempfile.mkdtemp(prefix="deerweb-bench-submit-"))
    figures = Figures()
    try:
        harness.database_recreate(database_url)
        harness.redis_queues_clear(redis_url, [queue])
        # Each member's thread plays a request of its own, all at once: as many pooled connections
        # as a server would hold for that many concurrent requests (the default pool is 10).
        os.environ["DEERWEB_DB_POOL_MAX_SIZE"] = str(args.members + 5)
        harness.django_start(database_url, redis_url, queue=queue, media_root=scratch / "media")
        # A refusal is an expected 400: a "Bad Request" warning for each would bury the figures.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        from accounts import roles
        from predictions.models import User

        rng = random.Random(args.seed)
        users = [User(username=f"bench-member-{n:02d}") for n in range(1, args.members + 1)]
        for user in users:
            user.set_unusable_password()
        User.objects.bulk_create(users)
        members = list(User.objects.filter(username__startswith="bench-member-").order_by("username"))
        roles.role_groups_ensure()[roles.MEMBER].user_set.add(*members)
        budgets, team, price = _budgets(members, args.per_member, rng)
        figures.answers, figures.wall, figures.cpu = _submit_all(members, args, rng)
        _check(figures, budgets, team, price, queue, redis_url)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        harness.redis_queues_clear(redis_url, [queue])
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        if not args.keep_database:
            harness.database_drop(database_url)
    for line in _report(figures, args):
        print(line)
    print(f"Load average at the end (1, 5, 15 min): {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    return 0
