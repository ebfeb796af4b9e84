"""Report which models DeerAPI no longer lists and which new ones it offers."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from deerapi.sync import models_sync


class Command(BaseCommand):
    help = (
        "Read DeerAPI's GET /v1/models and report which catalog or admin-added models it no longer "
        "lists and which new ids (from vendors DeerWeb knows) it offers. The report is also kept in "
        "the audit log, where the admin's model list shows it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = models_sync()
        if report.error:
            raise CommandError(report.error)
        self.stdout.write(f"DeerAPI lists {report.listed} models.")
        self.stdout.write("No longer listed by DeerAPI:" if report.missing else "Every DeerWeb model is listed.")
        for model_id in report.missing:
            self.stdout.write(f"  - {model_id}")
        self.stdout.write("New at DeerAPI:" if report.new else "No new models from known vendors.")
        for model_id in report.new:
            self.stdout.write(f"  + {model_id}")
