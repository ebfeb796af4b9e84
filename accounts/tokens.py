"""Personal API tokens: make one (its secret shown once), revoke one, and find the token an
API request carries (`token_authenticate`, the API's one way in).

A token is `dwt_` and 40 URL-safe random characters (240 bits). The fixed start lets
secret scanners find a leaked one, and the log redaction (ops.redaction) hides it. Only
its SHA-256 is stored: a random secret that long needs no salt or slow hash, and since a
token is found by its hash, no secret is compared in Python.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken
from audit.services import audit_record
from common import permissions

if TYPE_CHECKING:
    from predictions.models import User

TOKEN_START = "dwt_"  # noqa: S105 - the public start of every token, not a secret
_RANDOM_BYTES = 30  # 40 characters in URL-safe base64
TOKEN_LENGTH = len(TOKEN_START) + 40
PREFIX_LENGTH = 12  # what lists show: `dwt_` and 8 of the random characters
NAME_MAX_LENGTH = 100
# `last_used_at` is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenError(Exception):
    """A token that cannot be made as asked; the message is for the person asking."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def token_hash(raw: str) -> str:
    """What is stored of a token, and looked up: its SHA-256, in hex."""
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(
    user: User,
    name: str,
    *,
    read_only: bool = False,
    expires_at: datetime | None = None,
    by: User | None = None,
) -> tuple[ApiToken, str]:
    """A new token of `user`'s, and the token itself: the only time it is available.

    `by` is who made it (None: the command line). Writes a "token.create" audit entry,
    which names the token by its prefix only.
    """
    name = name.strip()
    now = timezone.now()
    if not name:
        raise TokenError(_("Give the token a name."))
    if len(name) > NAME_MAX_LENGTH:
        raise TokenError(_("A token's name is at most %(n)d characters.") % {"n": NAME_MAX_LENGTH})
    if not user.is_active:
        raise TokenError(
            _("%(name)s is deactivated: a token of theirs would not work.") % {"name": user.get_username()}
        )
    if expires_at is not None and expires_at <= now:
        raise TokenError(_("The expiry must be in the future."))
    raw = TOKEN_START + secrets.token_urlsafe(_RANDOM_BYTES)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[:PREFIX_LENGTH],
            key_hash=token_hash(raw),
            read_only=read_only,
            created_at=now,
            expires_at=expires_at,
            created_by=by,
        )
        audit_record(
            actor=by,
            action="token.create",
            target=token,
            summary=f"{user.get_username()}: {name} ({token.prefix}…)",
            after={
                "user": user.get_username(),
                "name": name,
                "prefix": token.prefix,
                "read_only": read_only,
                "expires_at": expires_at,
            },
        )
    return token, raw


def token_revoke(token: ApiToken, *, by: User | None) -> bool:
    """Stop `token` working, at once and for good. Its owner or an admin may; `by` None is the
    command line. Returns False if it was already revoked. Writes a "token.revoke" audit entry."""
    if by is not None and by.pk != token.user_id and not permissions.is_admin(by):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            return False
        token.revoked_at = now
        audit_record(
            actor=by,
            action="token.revoke",
            target=token,
            summary=f"{token.user.get_username()}: {token.name} ({token.prefix}…)",
            before={"revoked_at": None},
            after={"revoked_at": now},
        )
    return True


def token_authenticate(raw: str, *, address: str | None = None) -> ApiToken | None:
    """The token `raw` is, with its `user` loaded, if it may be used now: not revoked, not
    expired, and its owner's account active (deactivating a member stops their tokens at once).
    None for anything else, an unknown or malformed token included.

    Notes that it was used, and from `address` (an IP address), at most once a minute: the
    write is one conditional UPDATE, so concurrent requests do not each write. The caller
    decides what the token may do: `token.read_only` tokens must not change anything.
    """
    if not isinstance(raw, str) or len(raw) != TOKEN_LENGTH or not raw.startswith(TOKEN_START):
        return None
    now = timezone.now()
    try:
        token = ApiToken.objects.select_related("user").get(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            key_hash=token_hash(raw),
            revoked_at__isnull=True,
            user__is_active=True,
        )
    except ApiToken.DoesNotExist:
        return None
    stale = now - LAST_USED_EVERY
    if token.last_used_at is None or token.last_used_at <= stale:
        used_from = _ip_address(address)
        noted = ApiToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk).update(
            last_used_at=now, last_used_address=used_from
        )
        if noted:
            token.last_used_at, token.last_used_address = now, used_from
    return token


def _ip_address(address: str | None) -> str | None:
    """`address` in the form the database stores, or None if it is not an IP address."""
    if not address:
        return None
    try:
        # An IPv6 zone ("fe80::1%eth0") means nothing beyond the proxy; PostgreSQL refuses it.
        return str(ipaddress.ip_address(address.split("%", 1)[0].strip()))
    except ValueError:
        return None
