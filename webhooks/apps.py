from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from predictions import pipeline
        from predictions import views as prediction_views
        from predictions.signals import prediction_changed, prediction_finished

        from . import delivery, services, views

        prediction_changed.connect(services.prediction_changed_received, dispatch_uid="webhooks-changed")
        prediction_finished.connect(services.prediction_finished_received, dispatch_uid="webhooks-finished")
        prediction_views.detail_panels_register(views.prediction_panel)
        pipeline.sweep_register(delivery.webhooks_sweep)
