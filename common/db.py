"""Database connections of the worker's threads."""

from django.db import connections


def connections_keep_if_usable() -> None:
    """Between two units of work on a worker thread: keep the thread's database connections
    (a connection taken from the pool and checked for every task cost a round trip each), but
    close one that failed and no longer answers, or was left inside a transaction, so the next
    unit of work takes a fresh one. Django's close_old_connections would close them all
    (CONN_MAX_AGE is 0 for the web's pool)."""
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
