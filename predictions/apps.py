from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PredictionsConfig(AppConfig):
    name = "predictions"
    verbose_name = _("Predictions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billing import services as billing
        from ops import health

        from . import selectors, services, settlement, tasks

        selectors.lookups_register()
        health.check_register("predictions", services.past_lease_check)
        health.working_predictions_register(services.working_predictions)
        health.prediction_tasks_register(tasks.PREDICTION_TASKS)
        billing.usage_source_register(
            billing.UsageSource(in_flight=services.in_flight_count, recorded_cost=settlement.recorded_cost)
        )
