"""common/db.py: a query built once per process and run with other values, from any thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from django.db import connection

from common.db import Prepared, update_returning
from predictions.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_prepared_query_is_built_once_and_answers_each_thread_on_its_own_connection(member, other_member):
    builds = []

    def build(pk: int, joined: datetime):
        builds.append(pk)
        return User.objects.filter(pk=pk, date_joined__gt=joined).values_list("username", "date_joined")

    prepared = Prepared(build, -1_000_001, datetime(1901, 1, 1, tzinfo=UTC))
    since = datetime(2000, 1, 1, tzinfo=UTC)

    def each(user: User) -> list[tuple]:
        try:
            return prepared.rows(user.pk, since)
        finally:
            connection.close()  # this thread's own

    # A thread per request, as under ASGI: each its own connection, one build for them all.
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(each, [member, other_member, member, other_member]))

    assert builds == [-1_000_001]
    assert [rows[0][0] for rows in answers] == ["alice", "bob", "alice", "bob"]
    assert all(isinstance(rows[0][1], datetime) and rows[0][1].tzinfo is not None for rows in answers)
    assert prepared.rows(member.pk, datetime(2999, 1, 1, tzinfo=UTC)) == []


def test_a_placeholder_missing_from_the_query_is_refused(member):
    prepared = Prepared(lambda pk: User.objects.filter(username="alice").values_list("pk"), -1_000_001)
    with pytest.raises(ValueError, match="placeholder is missing"):
        prepared.rows(member.pk)


def test_update_returning_gives_back_only_the_rows_it_changed_as_changed(member, other_member):
    changed = update_returning(User.objects.filter(pk=member.pk, is_active=True), first_name="Ada", is_active=False)
    again = update_returning(User.objects.filter(pk=member.pk, is_active=True), first_name="Bea")

    assert [(user.pk, user.first_name, user.is_active) for user in changed] == [(member.pk, "Ada", False)]
    assert again == []
    assert User.objects.get(pk=member.pk).first_name == "Ada"
    assert User.objects.get(pk=other_member.pk).first_name == other_member.first_name
