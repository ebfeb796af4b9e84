"""Roles as Django groups: give a member a role, keep the groups and `is_staff` in step.

The checks themselves (who is a reviewer, an admin) are in common.permissions, which
every app's views use. Only `is_staff` follows the Admin role, because the admin site
requires it: `user_staff_sync` keeps it equal to "superuser or in the Admin group",
whichever way the groups were changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from audit.services import audit_record
from common.permissions import ADMIN, MEMBER, REVIEWER, ROLES, role_from

if TYPE_CHECKING:
    from predictions.models import User


# The same permissions as migration 0003 gives the groups (kept here for
# `role_groups_ensure`; a migration must not import app code).
_MEMBER_PERMS = ["add_prediction", "view_prediction", "add_prompt", "change_prompt", "view_prompt"]
# An Admin holds every permission of DeerWeb's apps and of Django's users and groups.
ADMIN_APPS = ["auth", "audit", "accounts", "catalog", "billing", "predictions", "reviews", "webhooks", "ops"]
_ROLE_PERMS = {
    MEMBER: _MEMBER_PERMS,
    REVIEWER: [*_MEMBER_PERMS, "view_team_predictions", "review_prediction"],
}


def role_groups_ensure() -> dict[str, Group]:
    """The three role groups, re-created with their permissions if missing."""
    groups: dict[str, Group] = {}
    for role in ROLES:
        group, created = Group.objects.get_or_create(name=role)
        if created:
            if role == ADMIN:
                perms = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
            else:
                perms = Permission.objects.filter(content_type__app_label="predictions", codename__in=_ROLE_PERMS[role])
            group.permissions.set(perms)
        groups[role] = group
    return groups


def admin_group_permissions_sync(**kwargs: object) -> None:
    """After each `migrate`: the Admin group holds every permission of ADMIN_APPS, those of apps
    and models added since the group was made included (Django creates permissions after the
    migrations, so a migration cannot give them). A missing group is left to role_groups_ensure."""
    group = Group.objects.filter(name=ADMIN).first()
    if group is not None:
        group.permissions.add(*Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))


def _snapshot(user: User) -> dict[str, object]:
    names = set(user.groups.values_list("name", flat=True))
    return {
        "role": role_from(names, is_superuser=user.is_superuser),
        "groups": sorted(names),
        "is_staff": user.is_staff,
    }


def user_staff_sync(user: User) -> bool:
    """Give `is_staff` to exactly the superusers and the Admin group; True if it changed."""
    should = user.is_superuser or user.groups.filter(name=ADMIN).exists()
    changed = get_user_model().objects.filter(pk=user.pk).exclude(is_staff=should).update(is_staff=should)
    user.is_staff = should
    _clear_perm_cache(user)
    return bool(changed)


def user_role_set(user: User, role: str, *, by: User | None) -> bool:
    """Make `user` hold exactly `role` among the role groups; other groups stay.

    Returns False when nothing changed. Writes a "user.role" audit entry.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    groups = role_groups_ensure()
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        before = _snapshot(user)
        current = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if current == {role}:
            return False
        user.groups.remove(*[groups[name] for name in current if name != role])
        user.groups.add(groups[role])
        user_staff_sync(user)
        user_roles_audit(user, before, by=by)
    return True


def user_roles_audit(user: User, before: dict[str, object], *, by: User | None) -> bool:
    """Write a "user.role" audit entry if the user's groups or staff flag changed since `before`."""
    _clear_perm_cache(user)
    after = _snapshot(user)
    if after == before:
        return False
    audit_record(
        actor=by,
        action="user.role",
        target=user,
        summary=f"{user.get_username()}: {before['role']} → {after['role']}",
        before=before,
        after=after,
    )
    return True


def user_roles_snapshot(user: User) -> dict[str, object]:
    """What `user_roles_audit` compares against: take it before changing groups."""
    return _snapshot(user)


def _clear_perm_cache(user: User) -> None:
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attr, None)
