"""ModelConfig, moved from the predictions app: its table predictions_modelconfig is kept."""

from django.db import migrations, models

MODELS = ("modelconfig",)


def content_types_move(apps, schema_editor):
    """Existing databases: the content types (and so permissions and admin log entries)
    of the moved models now belong to this app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="catalog", model=model).exists():
            ContentType.objects.filter(app_label="predictions", model=model).update(app_label="catalog")


def content_types_move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="predictions", model=model).exists():
            ContentType.objects.filter(app_label="catalog", model=model).update(app_label="predictions")


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
                    name="ModelConfig",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("model_id", models.CharField(max_length=200, unique=True, verbose_name="model id")),
                        ("enabled", models.BooleanField(default=True, verbose_name="enabled")),
                        (
                            "price",
                            models.DecimalField(
                                blank=True,
                                decimal_places=4,
                                help_text="Empty: the catalog's list price.",
                                max_digits=10,
                                null=True,
                                verbose_name="price per image (USD)",
                            ),
                        ),
                        ("name", models.CharField(blank=True, default="", max_length=120, verbose_name="display name")),
                        ("vendor", models.CharField(blank=True, default="", max_length=120, verbose_name="vendor")),
                        (
                            "input_schema",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="Only for models not in the built-in catalog: a JSON Schema object with 'properties' and 'required'.",
                                verbose_name="input schema",
                            ),
                        ),
                        (
                            "output_shape",
                            models.CharField(
                                choices=[
                                    ("single", "One URL"),
                                    ("list", "A list of URLs"),
                                    ("svg", "One URL to an SVG file"),
                                ],
                                default="single",
                                max_length=10,
                            ),
                        ),
                        ("auto_approve", models.BooleanField(default=False, verbose_name="approve automatically")),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "verbose_name": "model",
                        "verbose_name_plural": "models",
                        "db_table": "predictions_modelconfig",
                        "ordering": ["model_id"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back),
    ]
