"""Submit benchmark: many members submitting at once through the playground, against their budgets.

A dedicated PostgreSQL database (dropped, created and migrated at the start) holds `--members`
members, each with a monthly budget of 1 to 3 times what `--per-member` one-image predictions cost,
under a team budget of 60 % of their budgets together, so that members run out of budget and then
the team does. DeerWeb runs as the Procfile's web process (uvicorn and its worker processes,
production settings). Each member is a browser (an httpx client of its own in this process, one
event loop for all), logged in, that opens the playground and then, when every one has, POSTs
`--per-member` predictions of 1 to 4 images one after the other as playground.js does: the form's
fields as multipart FormData, JSON wanted (`--plain`: as the form does without JavaScript,
answered by a redirect). Each goes through the real view, form, quota check under row locks,
ledger entry and `transaction.on_commit` enqueue. The predictions wait, queued and due, for the
workers' pollers; none runs here, and the run's own Redis queue (where a submit task would go with
DEERWEB_POLL_THREADS=0) is deleted at the end.

Figures: latency of each POST (median, p95, max; accepted and refused apart), submissions per
second from the start to the last answer, the CPU the web processes, PostgreSQL and the browsers
spent per submission, and the check that the quota is never overspent: for every member and for
the team, the ledger's reservations this month ≤ the budget. Also checked: one prediction, one
reserve entry and one queued row per accepted submission, none per refusal, and no message sent
(the pollers claim queued rows).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import re
import shutil
import socket
import tempfile
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
    parser.add_argument(
        "--plain", action="store_true", help="post as the form does without JavaScript (answered by a redirect)"
    )
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
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of the web, PostgreSQL and the browsers
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


class Server:
    """The Procfile's web process (uvicorn, its worker processes) on the run's database and queue."""

    def __init__(self, scratch: Path) -> None:
        self.port = harness.free_port()
        env = {
            **os.environ,
            "DEERWEB_PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
        }
        self.child = harness.Child("web", harness.procfile_argv("web", env), env, scratch / "web.log")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.child.start("Uvicorn running on")
        deadline = time.monotonic() + 60
        while True:  # the socket is bound; its processes answer once they have started
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline or not self.child.alive():
                    raise BenchError(f"the web process does not accept connections:\n{self.child.tail()}") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        self.child.stop()


def _session_cookie(member: Any) -> str:
    """A logged-in session for `member`, as the login page would make (the key of its cookie)."""
    from django.test import Client

    client = Client()
    client.force_login(member)
    return client.cookies["sessionid"].value


_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_PREDICTION_PAGE = re.compile(r"/predictions/\d+/")


def _fields(member: Any, n: int, images: int) -> dict[str, str]:
    """What the playground's form sends for a FLUX.1 [schnell] run (every field it shows)."""
    return {
        "model": MODEL,
        "prompt": f"bench {n} by {member.username}: a red deer in the snow",
        "aspect_ratio": "1:1",
        "num_outputs": str(images),
        "megapixels": "1",
        "output_format": "webp",
        "output_quality": "80",
        "num_inference_steps": "4",
        "go_fast": "on",
    }


async def _member(
    server: Server, member: Any, cookie: str, images: list[int], plain: bool, start: asyncio.Event
) -> list[Answer]:
    """One member's browser: opens the playground, then submits its predictions one after the
    other, as playground.js does (multipart FormData, JSON wanted) or, with `plain`, as the form
    does without JavaScript (then a redirect)."""
    import httpx
    from urllib3 import encode_multipart_formdata

    url = "/predictions/new/"
    answers = []
    async with httpx.AsyncClient(base_url=server.base, cookies={"sessionid": cookie}, timeout=60) as client:
        page = await client.get(url)
        if page.status_code != 200 or not (token := _CSRF_FIELD.search(page.text)):
            raise BenchError(f"GET {url} as {member.username}: HTTP {page.status_code}, no form")
        headers = {"Origin": server.base, "Referer": server.base + url}
        if not plain:
            headers["Accept"] = "application/json"
        await start.wait()
        for n, count in enumerate(images):
            data = {"csrfmiddlewaretoken": token.group(1), **_fields(member, n, count)}
            started = time.perf_counter()
            try:
                body, content_type = encode_multipart_formdata(data)  # as a browser's FormData is sent
                response = await client.post(url, content=body, headers={**headers, "Content-Type": content_type})
            except httpx.HTTPError as exc:  # reported in the figures, never hidden
                answers.append(Answer(member.pk, time.perf_counter() - started, "error", repr(exc)))
                continue
            answers.append(Answer(member.pk, time.perf_counter() - started, *_outcome(response)))
    return answers


def _submit_all(
    server: Server, members: list[Any], args: argparse.Namespace, rng: random.Random
) -> tuple[list[Answer], float, dict[str, float]]:
    """Every member's submissions, at once; returns the answers, the wall time and the CPU seconds
    the web processes, PostgreSQL and this process (the browsers) spent meanwhile."""
    cookies = [_session_cookie(member) for member in members]
    images = {member.pk: [rng.randint(1, 4) for _ in range(args.per_member)] for member in members}
    database = harness.database_name(args.database_url)

    async def everyone() -> tuple[list[Answer], float, dict[str, float]]:
        start = asyncio.Event()
        tasks = [
            asyncio.create_task(_member(server, member, cookie, images[member.pk], args.plain, start))
            for member, cookie in zip(members, cookies, strict=True)
        ]
        # Every browser has its page open, and every web process has started and is idle.
        await asyncio.sleep(0.5)
        await asyncio.to_thread(harness.tree_settled, server.child.pid)
        for task in tasks:
            if task.done():
                task.result()  # its error
        table = harness.processes()
        web, postgres = harness.tree_cpu_seconds(table, server.child.pid), harness.postgres_cpu_seconds(table, database)
        began, own = time.perf_counter(), time.process_time()
        start.set()
        answers = [answer for mine in await asyncio.gather(*tasks) for answer in mine]
        wall = time.perf_counter() - began
        table = harness.processes()
        after = harness.postgres_cpu_seconds(table, database)
        cpu = {
            "web": harness.tree_cpu_seconds(table, server.child.pid) - web,
            "postgres": sum(seconds - postgres.get(pid, 0.0) for pid, seconds in after.items()),
            "browsers": time.process_time() - own,
        }
        return answers, wall, cpu

    return asyncio.run(everyone())


def _outcome(response: Any) -> tuple[str, str]:
    # Accepted: playground.js gets 201; the form without it is sent to the new prediction's page.
    if response.status_code == 201 or (
        response.status_code == 302 and _PREDICTION_PAGE.fullmatch(response.headers.get("Location", ""))
    ):
        return "accepted", ""
    text = response.text
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
        f"CPU per submission: web processes {figures.cpu['web'] / total * 1000:.1f} ms, PostgreSQL "
        f"{figures.cpu['postgres'] / total * 1000:.1f} ms, the browsers (this process) "
        f"{figures.cpu['browsers'] / total * 1000:.1f} ms; all of them kept "
        f"{sum(figures.cpu.values()) / figures.wall:.2f} of the machine's {os.cpu_count()} cores busy",
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
    print("== Submit: members submitting at once through the playground, on the Procfile's web process ==")
    print(f"Command: {harness.command_line()}")
    for line in harness.machine_lines(args.database_url, args.redis_url):
        print(line)
    print(
        f"Workload: {args.members} members, each a browser with the playground open, POST {args.per_member} "
        f"predictions each to /predictions/new/ at once, one after the other, "
        + ("as the form does without JavaScript" if args.plain else "as playground.js does (FormData, JSON wanted)")
        + f"; {MODEL}, 1 to 4 images each; the web process as the Procfile starts it (production settings); "
        "the tasks queue in Redis, no worker"
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
        harness.django_start(database_url, redis_url, queue=queue, media_root=scratch / "media")
        # A refusal is an expected 400: a "Bad Request" warning for each would bury the figures.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        from accounts import roles

        rng = random.Random(args.seed)
        members = harness.members_create(args.members)
        roles.role_groups_ensure()[roles.MEMBER].user_set.add(*members)
        budgets, team, price = _budgets(members, args.per_member, rng)
        with Server(scratch) as server:
            figures.answers, figures.wall, figures.cpu = _submit_all(server, members, args, rng)
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
