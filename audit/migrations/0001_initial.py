"""AuditEntry, moved from the predictions app: its table predictions_auditentry is kept."""

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MODELS = ("auditentry",)


def content_types_move(apps, schema_editor):
    """Existing databases: the content types (and so permissions and admin log entries)
    of the moved models now belong to this app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="audit", model=model).exists():
            ContentType.objects.filter(app_label="predictions", model=model).update(app_label="audit")


def content_types_move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="predictions", model=model).exists():
            ContentType.objects.filter(app_label="audit", model=model).update(app_label="predictions")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("predictions", "0010_models_to_domain_apps"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("action", models.CharField(max_length=50)),
                        ("target_type", models.CharField(max_length=50)),
                        ("target_id", models.CharField(max_length=50)),
                        ("summary", models.CharField(blank=True, default="", max_length=300)),
                        (
                            "before",
                            models.JSONField(
                                blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder
                            ),
                        ),
                        (
                            "after",
                            models.JSONField(
                                blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                help_text="Empty: done automatically by DeerWeb.",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "audit entry",
                        "verbose_name_plural": "audit log",
                        "db_table": "predictions_auditentry",
                        "indexes": [
                            models.Index(fields=["-created_at"], name="predictions_created_15ff0f_idx"),
                            models.Index(fields=["action", "-created_at"], name="predictions_action_4a5f28_idx"),
                            models.Index(fields=["target_type", "target_id"], name="predictions_target__92fba7_idx"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back),
    ]
