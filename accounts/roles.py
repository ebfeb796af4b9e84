"""Roles: Member, Reviewer and Admin, as Django groups with permissions.

Checks ask for permissions, never for `is_staff`: a Reviewer needs no access to
the Django admin site. Only `is_staff` follows the Admin role, because the admin
site requires it: `user_staff_sync` keeps it equal to "superuser or in the Admin
group", whichever way the groups were changed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _

from .audit import audit_record
from .models import User

MEMBER = "Member"
REVIEWER = "Reviewer"
ADMIN = "Admin"
ROLES = (MEMBER, REVIEWER, ADMIN)
ROLE_LABELS = {MEMBER: _("Member"), REVIEWER: _("Reviewer"), ADMIN: _("Admin")}

VIEW_TEAM = "predictions.view_team_predictions"
REVIEW = "predictions.review_prediction"
MANAGE_TEAM = "predictions.manage_team"

# The same permissions as migration 0003 gives the groups (kept here for
# `role_groups_ensure`; a migration must not import app code).
_MEMBER_PERMS = ["add_prediction", "view_prediction", "add_prompt", "change_prompt", "view_prompt"]
_ROLE_PERMS = {
    MEMBER: _MEMBER_PERMS,
    REVIEWER: [*_MEMBER_PERMS, "view_team_predictions", "review_prediction"],
}

AnyUser = User | AnonymousUser
_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


class AuthedHttpRequest(HttpRequest):
    """The request a view behind `login_required` or `role_required` receives: its user is
    logged in. Only an annotation: Django passes a plain HttpRequest."""

    user: User


def can_view_team(user: AnyUser) -> bool:
    """May see every member's predictions (read-only)."""
    return user.is_active and user.has_perm(VIEW_TEAM)


def is_reviewer(user: AnyUser) -> bool:
    """May use the review queue and approve or reject predictions."""
    return user.is_active and user.has_perm(REVIEW)


def is_admin(user: AnyUser) -> bool:
    """May manage members, quotas, models and settings, and read the audit log."""
    return user.is_active and (user.is_superuser or user.has_perm(MANAGE_TEAM))


def role_required(check: Callable[[AnyUser], bool]) -> Callable[[_View], _View]:
    """A view decorator: anonymous visitors go to the login page; members without the role get 403."""

    def decorator(view: _View) -> _View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        # `wraps` keeps the view's name and signature; mypy cannot carry them through it.
        return cast(_View, login_required(wrapped))

    return decorator


def role_of(user: User) -> str:
    """The highest role a user holds (Member when in no role group).

    Reads `user.groups.all()`, so prefetch `groups` when listing users.
    """
    return _role_from({group.name for group in user.groups.all()}, is_superuser=user.is_superuser)


def _role_from(names: set[str], *, is_superuser: bool) -> str:
    if is_superuser:
        return ADMIN
    for role in (ADMIN, REVIEWER):
        if role in names:
            return role
    return MEMBER


def role_groups_ensure() -> dict[str, Group]:
    """The three role groups, re-created with their permissions if missing."""
    groups: dict[str, Group] = {}
    for role in ROLES:
        group, created = Group.objects.get_or_create(name=role)
        if created:
            if role == ADMIN:
                perms = Permission.objects.filter(content_type__app_label__in=["predictions", "auth"])
            else:
                perms = Permission.objects.filter(content_type__app_label="predictions", codename__in=_ROLE_PERMS[role])
            group.permissions.set(perms)
        groups[role] = group
    return groups


def _snapshot(user: User) -> dict[str, object]:
    names = set(user.groups.values_list("name", flat=True))
    return {
        "role": _role_from(names, is_superuser=user.is_superuser),
        "groups": sorted(names),
        "is_staff": user.is_staff,
    }


def user_staff_sync(user: User) -> bool:
    """Give `is_staff` to exactly the superusers and the Admin group; True if it changed."""
    should = user.is_superuser or user.groups.filter(name=ADMIN).exists()
    changed = User.objects.filter(pk=user.pk).exclude(is_staff=should).update(is_staff=should)
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
        user = User.objects.select_for_update().get(pk=user.pk)
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
