from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeerAPIConfig(AppConfig):
    name = "deerapi"
    verbose_name = _("DeerAPI")
    default_auto_field = "django.db.models.BigAutoField"
