from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Budget alerts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billing.signals import budget_alert_raised

        from . import delivery

        budget_alert_raised.connect(delivery.budget_alert_received, dispatch_uid="alerts-budget")
