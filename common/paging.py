"""Reading page positions from requests: row ids and keyset pages with their filters."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from common import paging as common_paging


def id_param(value: Any) -> int | None:
    """A row id from the query string or a hidden field, or None when it is not one."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) <= 18 else None


def keyset_context(request: HttpRequest, qs: QuerySet, *, size: int) -> dict[str, Any]:
    """One keyset page of `qs` after `?after=`, and the filters to keep in the page links."""
    rows, next_after = common_paging.keyset_page(qs, after=id_param(request.GET.get("after")), size=size)
    query = request.GET.copy()
    query.pop("after", None)
    return {
        "rows": rows,
        "next_after": next_after,
        "paged": "after" in request.GET,
        "filter_query": query.urlencode(),
    }


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


def day_range(qs: QuerySet, since: date | None, until: date | None) -> QuerySet:
    """Rows created on or after `since` and on or before `until` (whole days, local time)."""
    if since:
        qs = qs.filter(created_at__gte=timezone.make_aware(datetime.combine(since, time.min)))
    if until:
        qs = qs.filter(created_at__lt=timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min)))
    return qs
