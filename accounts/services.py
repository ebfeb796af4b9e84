"""Member accounts: invite, deactivate, reactivate, and one-time set-password links.

DeerWeb sends no e-mail: an invite or a password reset gives the admin a link to
pass on. The link is Django's password-reset token, so it works once (setting a
password changes the hash it is signed with) and expires after
PASSWORD_RESET_TIMEOUT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts import roles
from audit.services import audit_record

if TYPE_CHECKING:
    from predictions.models import User


class AccountError(Exception):
    """An account change that is not allowed; the message is for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def password_link_path(user: User) -> str:
    """The path of a one-time link at which `user` sets a new password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("accounts:password_set", args=[uid, token])


def user_invite(*, username: str, email: str, role: str, by: User) -> tuple[User, str]:
    """Create an account with no usable password in `role`; returns it and its set-password link."""
    with transaction.atomic():
        user = get_user_model()(username=username, email=email)
        user.set_unusable_password()
        user.save()
        roles.user_role_set(user, role, by=by)
        audit_record(
            actor=by,
            action="user.invite",
            target=user,
            summary=username,
            after={"username": username, "email": email, "role": role},
        )
    return user, password_link_path(user)


def user_password_link(user: User, *, by: User) -> str:
    """A set-password link for an existing member (an admin's password reset)."""
    if user.is_superuser and not by.is_superuser:
        raise AccountError(_("Only a superuser can reset a superuser's password."))
    audit_record(actor=by, action="user.password_link", target=user, summary=user.get_username())
    return password_link_path(user)


def user_deactivate(user: User, *, by: User) -> bool:
    """Stop `user` logging in or submitting; their history stays.

    Existing sessions end too: Django's backend refuses inactive users on every
    request. Returns False if the user was already inactive.
    """
    if user.pk == by.pk:
        raise AccountError(_("You cannot deactivate your own account."))
    if user.is_superuser and not by.is_superuser:
        raise AccountError(_("Only a superuser can deactivate a superuser."))
    return _set_active(user, False, by=by)


def user_reactivate(user: User, *, by: User) -> bool:
    """Let a deactivated member log in again. Returns False if already active."""
    return _set_active(user, True, by=by)


def _set_active(user: User, active: bool, *, by: User) -> bool:
    with transaction.atomic():
        changed = get_user_model().objects.filter(pk=user.pk, is_active=not active).update(is_active=active)
        user.is_active = active
        if changed:
            user_active_audit(user, by=by)
    return bool(changed)


def user_active_audit(user: User, *, by: User) -> None:
    """Record that `user` was just deactivated or reactivated (also by the admin site's form)."""
    active = user.is_active
    audit_record(
        actor=by,
        action="user.reactivate" if active else "user.deactivate",
        target=user,
        summary=user.get_username(),
        before={"is_active": not active},
        after={"is_active": active},
    )
