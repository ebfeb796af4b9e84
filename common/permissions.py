"""Who may do what: the three roles, the permissions behind them, and the view decorator.

Checks ask for permissions, never for `is_staff`: a Reviewer needs no access to the
Django admin site. The groups themselves are managed by accounts.roles.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from predictions.models import User


MEMBER = "Member"


REVIEWER = "Reviewer"


ADMIN = "Admin"


ROLES = (MEMBER, REVIEWER, ADMIN)


ROLE_LABELS = {MEMBER: _("Member"), REVIEWER: _("Reviewer"), ADMIN: _("Admin")}


VIEW_TEAM = "predictions.view_team_predictions"


REVIEW = "predictions.review_prediction"


MANAGE_TEAM = "predictions.manage_team"


AnyUser: TypeAlias = "User | AnonymousUser"


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
    return role_from({group.name for group in user.groups.all()}, is_superuser=user.is_superuser)


def role_from(names: set[str], *, is_superuser: bool) -> str:
    if is_superuser:
        return ADMIN
    for role in (ADMIN, REVIEWER):
        if role in names:
            return role
    return MEMBER
