"""Database connections of the worker's poller threads (predictions/poller.py), which keep
theirs between units of work (taking one from the pool and checking it for each would cost a
round trip each); and queries built once and run many times."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.subqueries import UpdateQuery

M = TypeVar("M", bound=Model)


def connections_keep_if_usable() -> None:
    """After a unit of work: keep the thread's database connections, but close one that failed
    and no longer answers, or was left inside a transaction, so the next unit takes a fresh one.
    (Django's close_old_connections would close them all: CONN_MAX_AGE is 0 for the web's pool.)"""
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        if connection.in_atomic_block or not connection.get_autocommit():
            connection.close()
        elif connection.errors_occurred:
            if connection.is_usable():
                connection.errors_occurred = False
            else:
                connection.close()


def connections_check() -> None:
    """Before a unit of work on a connection that may have gone stale (idle a while, or another
    thread's failed): close it unless it answers, so the unit takes a fresh one."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.is_usable():
            connection.close()


class Prepared:
    """A query the ORM builds once per process and database, run again with other values.

    For the queries every page runs (the header's budget): building a QuerySet into SQL costs
    several times the Python of running it. `build(*placeholders)` returns the query made with
    the placeholder values; each `rows(*values)` runs its SQL with `values` in their places,
    and Django's converters applied to the rows (Decimals and datetimes on SQLite). A
    placeholder must be a value the query holds nowhere else (a negative id, a date in 1901).

    Built once per process, not per thread: under ASGI each request runs in a thread of its
    own, so a per-thread query was built again for every page. The built compiler is copied for
    each run and given the calling thread's connection (its converters read the connection's
    settings only).
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], *placeholders: Any) -> None:
        self._build = build
        self._placeholders = placeholders
        self._built: dict[str, tuple[SQLCompiler, str, list[Any], list[int | None]]] = {}
        self._lock = threading.Lock()

    def _adapt(self, connection: BaseDatabaseWrapper, value: Any) -> Any:
        if isinstance(value, datetime):
            return connection.ops.adapt_datetimefield_value(value)
        return value

    def _prepared(self, using: str) -> tuple[SQLCompiler, str, list[Any], list[int | None]]:
        with self._lock:
            if using not in self._built:
                connection = connections[using]
                compiler = self._build(*self._placeholders).query.get_compiler(using=using)
                sql, params = compiler.as_sql()
                adapted = [self._adapt(connection, placeholder) for placeholder in self._placeholders]
                slots = [adapted.index(param) if param in adapted else None for param in params]
                if sorted({slot for slot in slots if slot is not None}) != list(range(len(adapted))):
                    raise ValueError("a placeholder is missing from the query's parameters, or is not unique")
                self._built[using] = (compiler, sql, list(params), slots)
            return self._built[using]

    def rows(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[tuple[Any, ...]]:
        connection = connections[using]
        built, sql, params, slots = self._built.get(using) or self._prepared(using)
        compiler = copy.copy(built)
        compiler.connection = connection
        given = [self._adapt(connection, value) for value in values]
        run = [param if slot is None else given[slot] for param, slot in zip(params, slots, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(sql, run)
            fetched = cursor.fetchall()
        return [tuple(row) for row in compiler.results_iter(results=[fetched], tuple_expected=True)]


def update_returning(queryset: QuerySet[M], **values: Any) -> list[M]:
    """`queryset.update(**values)` in one `UPDATE … RETURNING *`: the rows as updated.

    On PostgreSQL the rows stay locked until the transaction ends, as `select_for_update` would
    leave them, without a statement to read them back (SQLite locks the whole database for a
    write anyway).
    """
    query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
    query.add_update_values(values)
    query.annotations = {}
    compiler = query.get_compiler(queryset.db)
    compiler.pre_sql_setup()
    sql, params = compiler.as_sql()
    if not sql:
        return []
    return list(queryset.model._default_manager.db_manager(queryset.db).raw(f"{sql} RETURNING *", params))
