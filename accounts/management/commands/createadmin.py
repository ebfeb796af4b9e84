"""Create the first admin with a random password, printed once, if no user exists."""

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an `admin` superuser with a random password when the database has no user yet."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        if User.objects.exists():
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username="admin", email="", password=password)
        line = "=" * 64
        self.stdout.write(
            f"{line}\nCreated the first DeerWeb user.\n  username: admin\n  password: {password}\n"
            f"This password is shown only now; change it after logging in.\n{line}"
        )
