"""Usage pages: a member's spending and ledger; the team's, DeerAPI's balance and
members' limits for admins; CSV exports of the ledger. Thin: forms, selectors and
quotas services do the work."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import charts, deerapi_account
from billing import selectors as billing_selectors
from billing import services as billing
from billing.forms import MemberLimitsForm, MemberQuotaForm, UsageChoice, UsageFilterForm, model_choices
from billing.models import LedgerEntry, MemberQuota, Period, TeamSettings
from catalog import selectors as catalog_selectors
from common import forms as common_forms
from common import permissions
from common.permissions import AuthedHttpRequest
from common.rows import rows_rendered

LEDGER_PAGE = 50
MEMBER_PAGE = 50
CSV_COLUMNS = ["created_at", "member", "kind", "amount_usd", "model", "prediction", "reason", "by"]


def _require_admin(request: HttpRequest) -> None:
    if not permissions.is_admin(request.user):
        raise PermissionDenied


def _presets(today: date) -> list[tuple[str, str, str]]:
    """Quick date ranges: (label, since, until)."""
    month = today.replace(day=1)
    last_month = (month - timedelta(days=1)).replace(day=1)
    return [
        (_("This month"), month.isoformat(), today.isoformat()),
        (_("Last month"), last_month.isoformat(), (month - timedelta(days=1)).isoformat()),
        (_("Last 30 days"), (today - timedelta(days=29)).isoformat(), today.isoformat()),
        (_("This year"), today.replace(month=1, day=1).isoformat(), today.isoformat()),
    ]


def _models() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The enabled models as form choices, and their names: one query for the page."""
    specs = catalog_selectors.models_enabled()
    return model_choices(enabled=[(s.id, f"{s.name} ({s.id})") for s in specs]), {s.id: s.name for s in specs}


def _charts_html(*shown: charts.Chart) -> list[SafeString]:
    """The charts' HTML, from the cache (common/rows.py) while their figures are the same: a
    chart is a function of its data, which is its key (every bar, tick and label, and its text)."""
    return rows_rendered("usage/_chart.html", shown, name="chart", key=lambda chart: chart)


def _charts(
    choice: UsageChoice, user_id: int | None, names: dict[str, str]
) -> tuple[charts.Chart, charts.Chart, Decimal]:
    """Net spending of `user_id` (None: the team) by day and by model in the chosen dates, and its total."""
    days, by_model = billing_selectors.spending_by_day_and_model(user_id=user_id, start=choice.start, end=choice.end)
    total = sum((value for _day, value in days), Decimal(0))
    span = {
        "since": formats.date_format(choice.since, "DATE_FORMAT"),
        "until": formats.date_format(choice.until, "DATE_FORMAT"),
        "total": billing.format_usd(total),
    }
    if days:
        top_day, top_value = max(days, key=lambda item: item[1])
        day_summary = _(
            "Net spending per day from %(since)s to %(until)s: %(total)s in total; most on %(day)s (%(value)s)."
        ) % {**span, "day": formats.date_format(top_day, "DATE_FORMAT"), "value": billing.format_usd(top_value)}
    else:
        day_summary = _("Net spending per day from %(since)s to %(until)s: nothing.") % span
    model_rows = [
        (names.get(model_id, model_id) if model_id else _("Admin adjustments"), value) for model_id, value in by_model
    ]
    if model_rows:
        model_summary = _(
            "Net spending per model from %(since)s to %(until)s: %(total)s in total; most on %(model)s (%(value)s)."
        ) % {**span, "model": model_rows[0][0], "value": billing.format_usd(model_rows[0][1])}
    else:
        model_summary = _("Net spending per model from %(since)s to %(until)s: nothing.") % span
    return (
        charts.by_day(
            days,
            choice.since,
            choice.until,
            id="chart-days",
            title=_("Spending by day"),
            description=day_summary,
            label_heading=_("Day"),
        ),
        charts.by_name(
            model_rows,
            id="chart-models",
            title=_("Spending by model"),
            description=model_summary,
            label_heading=_("Model"),
        ),
        total,
    )


def _ledger_page(request: HttpRequest, entries: QuerySet[LedgerEntry]) -> Page[LedgerEntry]:
    rows = entries.select_related("user", "created_by").only(
        "created_at",
        "kind",
        "amount",
        "model_id",
        "reason",
        "prediction_id",
        "user__username",
        "created_by__username",
    )
    return Paginator(rows, LEDGER_PAGE).get_page(request.GET.get("page"))


def _ledger_rows(page: Page[LedgerEntry], *, team: bool) -> list[SafeString]:
    """The page's ledger rows: an entry never changes (the ledger is append-only), so its row is
    rendered once and then read from the cache, unless a member or admin is renamed. The key
    holds every value the row shows, so a database made anew (its ids used again) shows no old row."""

    def key(entry: LedgerEntry) -> tuple[object, ...]:
        by = entry.created_by.get_username() if entry.created_by else None
        shown = (entry.created_at, entry.kind, entry.amount, entry.model_id, entry.prediction_id, entry.reason)
        return (entry.pk, *shown, team, entry.user.get_username() if team else None, by)

    entries = list(page.object_list)
    return rows_rendered("usage/_ledger_row.html", entries, name="entry", key=key, context={"team": team})


def _member_rows(rows: list[dict[str, Any]]) -> list[SafeString]:
    """The team page's member rows, each from the cache while everything it shows is the same."""

    def key(row: dict[str, Any]) -> tuple[object, ...]:
        member = row["member"]
        return (member.pk, member.get_username(), member.is_active, *(row[name] for name in _MEMBER_ROW))

    return rows_rendered("usage/_member_row.html", rows, name="row", key=key)


_MEMBER_ROW = ("rank", "spent", "limits", "left", "forecast")  # a member row's values besides the member's


class _Echo:
    """A file-like object whose write() returns what it is given, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    """Text a spreadsheet could take for a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(entries: QuerySet[LedgerEntry], filename: str) -> StreamingHttpResponse:
    """The ledger as CSV, streamed in chunks: fine for 100,000 rows. Times in UTC, ISO 8601."""
    rows = entries.values_list(
        "created_at",
        "user__username",
        "kind",
        "amount",
        "model_id",
        "prediction_id",
        "reason",
        "created_by__username",
    ).iterator(chunk_size=2000)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for created_at, member, kind, amount, model_id, prediction_id, reason, by in rows:
            yield writer.writerow(
                [
                    created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                    _cell(member),
                    kind,
                    f"{amount:f}",
                    _cell(model_id),
                    prediction_id or "",
                    _cell(reason),
                    _cell(by),
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _csv_name(who: str, choice: UsageChoice) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in who)
    return f"deerweb-ledger-{safe}-{choice.since.isoformat()}-{choice.until.isoformat()}.csv"


@login_required
@require_GET
def usage_mine(request: AuthedHttpRequest) -> HttpResponseBase:
    today = timezone.localdate()
    models, names = _models()
    form = UsageFilterForm(request.GET or None, today=today, models=models)
    choice = form.choice()
    entries = billing_selectors.ledger_entries(
        user_id=request.user.pk, start=choice.start, end=choice.end, kind=choice.kind, model_id=choice.model_id
    )
    if request.GET.get("format") == "csv":
        return _csv(entries, _csv_name(request.user.get_username(), choice))
    day_chart, model_chart, total = _charts(choice, request.user.pk, names)
    page = _ledger_page(request, entries)
    # The header's budget too (it replaces the context processor's): no query of its own.
    status = billing.budget_status(request.user)
    forecast = None
    if status.budget is not None and status.starts_at and status.resets_at:
        forecast = billing_selectors.forecast(
            status.spent, (status.starts_at, status.resets_at), timezone.now(), status.budget
        )
    context = {
        "form": form,
        "choice": choice,
        "total": total,
        "presets": _presets(today),
        "charts": _charts_html(day_chart, model_chart),
        "page": page,
        "ledger_rows": _ledger_rows(page, team=False),
        "in_flight": billing.in_flight_count(request.user.pk),
        "is_admin": permissions.is_admin(request.user),
        "member_budget": status,
        "forecast": forecast,
    }
    return render(request, "usage/mine.html", context, status=400 if form.is_bound and form.errors else 200)


@login_required
@require_GET
def usage_team(request: AuthedHttpRequest) -> HttpResponseBase:
    _require_admin(request)
    today = timezone.localdate()
    now = timezone.now()
    models, names = _models()
    form = UsageFilterForm(request.GET or None, today=today, models=models, members=common_forms.member_choices())
    choice = form.choice()
    entries = billing_selectors.ledger_entries(
        user_id=choice.member_id, start=choice.start, end=choice.end, kind=choice.kind, model_id=choice.model_id
    )
    if request.GET.get("format") == "csv":
        who = "team" if choice.member_id is None else str(choice.member_id)
        return _csv(entries, _csv_name(who, choice))
    team = TeamSettings.objects.filter(pk=1).first()
    periods: dict[str, tuple[datetime, datetime]] = {
        p: bounds for p in (Period.DAY, Period.WEEK, Period.MONTH) if (bounds := billing.period_bounds(p, now))
    }
    spending = billing_selectors.member_spending(start=choice.start, end=choice.end, periods=periods)
    members = Paginator(spending, MEMBER_PAGE).get_page(request.GET.get("members"))
    rows = []
    for rank, row in enumerate(members.object_list, start=members.start_index()):
        quota = getattr(row.member, "quota", None)
        limits = billing.Limits.of(quota) if quota else billing.Limits.default(team)
        left = (
            max(Decimal(0), limits.budget - row.now[limits.period])
            if limits.has_budget and limits.budget is not None
            else None
        )
        bounds = periods.get(limits.period)
        forecast = (
            billing_selectors.forecast(row.now[limits.period], bounds, now, limits.budget if left is not None else None)
            if bounds
            else None
        )
        rows.append(
            {
                "rank": rank,
                "member": row.member,
                "spent": row.spent,
                "limits": limits,
                "left": left,
                "forecast": forecast,
            }
        )
    day_chart, model_chart, total = _charts(choice, choice.member_id, names)
    page = _ledger_page(request, entries)
    # Every ledger entry is a member's, so the team's month is the sum of the members' months.
    team_spent_month = sum((row.now[Period.MONTH] for row in spending), Decimal(0))
    context = {
        "form": form,
        "choice": choice,
        "total": total,
        "presets": _presets(today),
        "charts": _charts_html(day_chart, model_chart),
        "page": page,
        "ledger_rows": _ledger_rows(page, team=True),
        "members": members,
        "member_rows": _member_rows(rows),
        "team": team,
        "team_spent_month": team_spent_month,
        "team_forecast": billing_selectors.forecast(
            team_spent_month, periods[Period.MONTH], now, team.team_monthly_budget if team else None
        ),
        "report": deerapi_account.balance_report(team),
    }
    return render(request, "usage/team.html", context, status=400 if form.is_bound and form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def member_quota(request: AuthedHttpRequest, user_id: int) -> HttpResponse:
    """A member's limits. `?part=limits` is the small form of the team page (it leaves the
    allowed models alone): a GET answers with that form alone, which app.js shows in the
    member's row when an admin follows "Edit limits"."""
    _require_admin(request)
    member = get_object_or_404(get_user_model(), pk=user_id)
    limits = billing.limits_of(member)
    thresholds = MemberQuota.objects.filter(user=member).values_list("alert_thresholds", flat=True).first()
    small = request.GET.get("part") == "limits"
    form_class = MemberLimitsForm if small else MemberQuotaForm
    if request.method == "POST":
        form = form_class(request.POST, limits=limits, alert_thresholds=thresholds)
        if form.is_valid():
            billing.quota_update(member, form.cleaned_data, by=request.user)
            messages.success(request, _("Limits of %(member)s saved.") % {"member": member.get_username()})
            return redirect("usage:team")
    elif small:
        # Ids of its own: several members' forms may be open on the team page at once.
        form = MemberLimitsForm(limits=limits, alert_thresholds=thresholds, auto_id=f"q{member.pk}-%s")
        return render(request, "usage/_member_limits.html", {"member": member, "form": form})
    else:
        form = MemberQuotaForm(limits=limits, alert_thresholds=thresholds)
    context = {"member": member, "form": form, "limits": limits}
    return render(request, "usage/member_quota.html", context, status=400 if form.is_bound else 200)


@login_required
@require_POST
def balance_refresh(request: AuthedHttpRequest) -> HttpResponse:
    _require_admin(request)
    deerapi_account.deerapi_balance_refresh_later()
    messages.info(request, _("DeerWeb is asking DeerAPI for its balance; reload this page in a few seconds."))
    return redirect("usage:team")
