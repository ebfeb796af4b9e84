from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlbumsConfig(AppConfig):
    """Collections of outputs and their read-only share links. The package is `albums`, not
    `collections`: that name is the standard library's."""

    name = "albums"
    verbose_name = _("Collections")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from predictions.views import detail_panels_register

        from . import views

        detail_panels_register(views.prediction_panel)
