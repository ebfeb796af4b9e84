"""Heartbeat and TaskFailure, moved from the predictions app: their tables keep their names."""

import django.utils.timezone
from django.db import migrations, models

MODELS = ("heartbeat", "taskfailure")


def content_types_move(apps, schema_editor):
    """Existing databases: the content types (and so permissions and admin log entries)
    of the moved models now belong to this app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="ops", model=model).exists():
            ContentType.objects.filter(app_label="predictions", model=model).update(app_label="ops")


def content_types_move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="predictions", model=model).exists():
            ContentType.objects.filter(app_label="ops", model=model).update(app_label="predictions")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("predictions", "0010_models_to_domain_apps"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Heartbeat",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=50, unique=True)),
                        ("at", models.DateTimeField()),
                    ],
                    options={
                        "verbose_name": "heartbeat",
                        "verbose_name_plural": "heartbeats",
                        "db_table": "predictions_heartbeat",
                    },
                ),
                migrations.CreateModel(
                    name="TaskFailure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("task", models.CharField(max_length=100)),
                        ("error", models.CharField(max_length=100)),
                        ("prediction_id", models.BigIntegerField(blank=True, null=True)),
                        ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ],
                    options={
                        "verbose_name": "task failure",
                        "verbose_name_plural": "task failures",
                        "db_table": "predictions_taskfailure",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back),
    ]
