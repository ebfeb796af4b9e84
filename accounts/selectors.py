"""Reads of the team's members and their API tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import F, QuerySet

from accounts.models import ApiToken

if TYPE_CHECKING:
    from predictions.models import User


def team_members() -> QuerySet[User]:
    """Accounts for the team page, with their groups for `roles.role_of`."""
    return get_user_model().objects.prefetch_related("groups").order_by("-is_active", "username")


def api_tokens(user: User | None = None) -> QuerySet[ApiToken]:
    """`user`'s API tokens (everyone's with None) with their owners: the usable and the
    expired first, newest first, then the revoked, most recently revoked first."""
    qs = ApiToken.objects.select_related("user", "created_by")
    if user is not None:
        qs = qs.filter(user=user)
    return qs.order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-pk")
