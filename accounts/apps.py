from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import roles

        # After every app's migrations and permissions (sent once per app: it is idempotent).
        post_migrate.connect(roles.admin_group_permissions_sync, dispatch_uid="deerweb_admin_group_permissions")
