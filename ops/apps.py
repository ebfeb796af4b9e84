from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


def _task_failed(sender: Any = None, exception: BaseException | None = None, args: Any = None, **kwargs: Any) -> None:
    """Celery's task_failure: note it for /healthz (the worker's recent tasks keep raising?).

    A task registered with `health.prediction_tasks_register` takes a prediction's id first;
    the failure then names it, so /healthz can tell one stuck prediction from many."""
    from . import health

    name = getattr(sender, "name", None) or "unknown"
    about = name in health.prediction_tasks
    prediction_id = args[0] if about and args and isinstance(args[0], int) else None
    health.task_failure_record(name, exception or Exception(), prediction_id)


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = _("Operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import task_failure

        task_failure.connect(_task_failed, weak=False, dispatch_uid="deerweb-task-failure")
        broker_folders_ensure()


# The filesystem broker's folders (settings.CELERY_BROKER_TRANSPORT_OPTIONS).
BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def broker_folders_ensure() -> None:
    """Make the filesystem broker's folders, when that is the broker: web, worker and beat
    each start by writing or reading them."""
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    for name in BROKER_FOLDERS:
        if options.get(name):
            Path(options[name]).mkdir(parents=True, exist_ok=True)
