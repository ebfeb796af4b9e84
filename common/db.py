"""Database connections of the worker's poller threads (predictions/poller.py), which keep
theirs between units of work: taking one from the pool and checking it for each would cost a
round trip each."""

from django.db import connections


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
