"""Rows of a list page, rendered once and kept in Django's cache while nothing can change them.

A long list spends most of its time rendering rows that no longer change: a finished
prediction's row is the same on every visit. Each row is keyed by everything it shows that
can still change (the caller's `key`), the template's source, the language, the time zone and
the URL prefix; a row whose key is None (still running) is rendered every time. One `get_many`
reads a page's rows, so a shared cache (Redis) costs one round trip per page.

A row template is rendered without the request: no context processors, no `user`, no `perms`,
no CSRF token. What it needs comes in `context`, and must be in the key if it varies.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from django.core.cache import cache
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

# A row's HTML is dropped after this long even if unchanged: it also bounds how long a new
# deploy's partials or translations wait to show in rows cached before it.
ROW_TTL = 3600

Row = TypeVar("Row")


@functools.cache
def _source_digest(template_name: str) -> str:
    """The row template's own text, so a changed template is not served from old keys."""
    template = get_template(template_name)
    return hashlib.blake2b(template.template.source.encode(), digest_size=6).hexdigest()  # type: ignore[attr-defined]


def rows_rendered(
    template_name: str,
    rows: Sequence[Row],
    *,
    name: str,
    key: Callable[[Row], Hashable | None],
    context: dict[str, Any] | None = None,
) -> list[SafeString]:
    """Each row rendered with `template_name` as `{name: row, **context}`, from the cache when it can be.
    `context` is what every row of the page shares (the page's address, a flag): it is in the key."""
    template = get_template(template_name)
    shared = context or {}
    return rows_cached(
        rows,
        key=key,
        render=lambda row: template.render({**shared, name: row}),
        ambient=(template_name, _source_digest(template_name), tuple(sorted(shared.items()))),
    )


def rows_cached(
    rows: Sequence[Row], *, key: Callable[[Row], Hashable | None], render: Callable[[Row], str], ambient: Hashable
) -> list[SafeString]:
    """Each row's HTML from `render`, from the cache when it can be. `ambient` is what every row of
    the list shares and its HTML depends on (besides the language, time zone and URL prefix, which
    are added here): which template or code renders it, and anything from the page it shows."""
    shared = (ambient, get_language(), timezone.get_current_timezone_name(), get_script_prefix())
    keys: dict[int, str] = {}
    for position, row in enumerate(rows):
        row_key = key(row)
        if row_key is not None:
            text = repr((shared, row_key)).encode()
            keys[position] = "row:" + hashlib.blake2b(text, digest_size=16).hexdigest()
    found = cache.get_many(list(keys.values())) if keys else {}
    shown, new = [], {}
    for position, row in enumerate(rows):
        cache_key = keys.get(position)
        html = found.get(cache_key) if cache_key else None
        if html is None:
            html = render(row)
            if cache_key:
                new[cache_key] = html
        shown.append(mark_safe(html))  # noqa: S308 - rendered by the caller's template or code, escaped there
    if new:
        cache.set_many(new, ROW_TTL)
    return shown
