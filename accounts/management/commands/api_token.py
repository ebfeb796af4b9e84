"""Provision or revoke a member's API token from the command line (for admins and scripts).

manage.py api_token create USERNAME --name NAME [--expires DAYS] [--read-only]
manage.py api_token revoke (--id ID | --prefix PREFIX)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts import tokens
from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Create a member's API token (printed once) or revoke one by its id or prefix."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)
        create = actions.add_parser("create", help="Create a token for USERNAME and print it.")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="What the token is for.")
        create.add_argument(
            "--expires", type=int, metavar="DAYS", help="Stop working after DAYS days (default: never)."
        )
        create.add_argument("--read-only", action="store_true", help="May read, but not create or cancel predictions.")
        revoke = actions.add_parser("revoke", help="Revoke a token.")
        which = revoke.add_mutually_exclusive_group(required=True)
        which.add_argument("--id", type=int, help="The token's id (as in the admin site).")
        which.add_argument("--prefix", help="The start of the token shown in lists, e.g. dwt_AbCd1234.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            self._create(options)
        else:
            self._revoke(options)

    def _create(self, options: dict[str, Any]) -> None:
        username = options["username"]
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        days = options["expires"]
        if days is not None and days < 1:
            raise CommandError("--expires takes a number of days, 1 or more.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            token, raw = tokens.token_create(
                user, options["name"], read_only=options["read_only"], expires_at=expires_at
            )
        except tokens.TokenError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(
            f"Created token {token.pk} “{token.name}” for {username}"
            f"{' (read-only)' if token.read_only else ''}, expires "
            f"{token.expires_at.strftime('%Y-%m-%d %H:%M UTC') if token.expires_at else 'never'}.\n"
            "It is shown only now: copy it."
        )
        self.stdout.write(raw)

    def _revoke(self, options: dict[str, Any]) -> None:
        found = ApiToken.objects.select_related("user")
        if options["id"] is not None:
            found = found.filter(pk=options["id"])
        else:
            prefix = options["prefix"].rstrip("…")
            if len(prefix) < tokens.PREFIX_LENGTH:
                raise CommandError(f"Give the whole prefix shown in lists ({tokens.PREFIX_LENGTH} characters).")
            found = found.filter(prefix=prefix[: tokens.PREFIX_LENGTH])
        matches = list(found[:2])
        if not matches:
            raise CommandError("No such token.")
        if len(matches) > 1:
            raise CommandError("More than one token starts so; revoke it by --id.")
        token = matches[0]
        if tokens.token_revoke(token, by=None):
            self.stdout.write(f"Revoked token {token.pk} “{token.name}” of {token.user.get_username()}.")
        else:
            self.stdout.write(f"Token {token.pk} “{token.name}” was already revoked.")
