from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Review")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from predictions.signals import prediction_finished

        from . import admin, services

        prediction_finished.connect(services.prediction_finished_received, dispatch_uid="reviews-auto-approve")
        admin.prediction_admin_extend()
