"""Reads of the team's members."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

if TYPE_CHECKING:
    from predictions.models import User


def team_members() -> QuerySet[User]:
    """Accounts for the team page, with their groups for `roles.role_of`."""
    return get_user_model().objects.prefetch_related("groups").order_by("-is_active", "username")
