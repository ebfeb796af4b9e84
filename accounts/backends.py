"""A member's permissions read in one query instead of Django's two.

Every page asks for them (the menu shows Review, Audit and Team by permission), so the two
queries ModelBackend runs (the member's own permissions, then their groups') are a fixed cost
of each request. This backend, listed before ModelBackend, reads the same set with both joins
in one query and leaves it where ModelBackend keeps its own (`_perm_cache`), so ModelBackend
answers from it without a query. It signs nobody in: sessions keep naming ModelBackend.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class PermissionsInOneQueryBackend(ModelBackend):
    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kw: Any) -> None:
        return None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            granted = Permission.objects.all()
            if not user_obj.is_superuser:
                granted = granted.filter(Q(user=user_obj) | Q(group__user=user_obj))
            rows = granted.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
