"""Reading page positions from requests: row ids and keyset pages with their filters."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from . import selectors


def id_param(value: Any) -> int | None:
    """A row id from the query string or a hidden field, or None when it is not one."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) <= 18 else None


def keyset_context(request: HttpRequest, qs: QuerySet, *, size: int) -> dict[str, Any]:
    """One keyset page of `qs` after `?after=`, and the filters to keep in the page links."""
    rows, next_after = selectors.keyset_page(qs, after=id_param(request.GET.get("after")), size=size)
    query = request.GET.copy()
    query.pop("after", None)
    return {
        "rows": rows,
        "next_after": next_after,
        "paged": "after" in request.GET,
        "filter_query": query.urlencode(),
    }
