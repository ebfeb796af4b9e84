"""Quotas, team settings and the ledger, moved from the predictions app: their tables keep
their names (predictions_memberquota, predictions_teamsettings, predictions_ledgerentry)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MODELS = ("memberquota", "teamsettings", "ledgerentry")


def content_types_move(apps, schema_editor):
    """Existing databases: the content types (and so permissions and admin log entries)
    of the moved models now belong to this app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="billing", model=model).exists():
            ContentType.objects.filter(app_label="predictions", model=model).update(app_label="billing")


def content_types_move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="predictions", model=model).exists():
            ContentType.objects.filter(app_label="billing", model=model).update(app_label="predictions")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("predictions", "0010_models_to_domain_apps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TeamSettings",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "default_budget",
                            models.DecimalField(
                                blank=True,
                                decimal_places=4,
                                help_text="For members without their own quota. Empty: unlimited.",
                                max_digits=12,
                                null=True,
                                verbose_name="default budget per period (USD)",
                            ),
                        ),
                        (
                            "default_period",
                            models.CharField(
                                choices=[
                                    ("day", "Daily"),
                                    ("week", "Weekly"),
                                    ("month", "Monthly"),
                                    ("none", "No budget (unlimited)"),
                                ],
                                default="month",
                                max_length=10,
                            ),
                        ),
                        ("default_max_in_flight", models.PositiveIntegerField(blank=True, null=True)),
                        (
                            "team_monthly_budget",
                            models.DecimalField(
                                blank=True,
                                decimal_places=4,
                                help_text="Empty: unlimited.",
                                max_digits=12,
                                null=True,
                                verbose_name="team budget per month (USD)",
                            ),
                        ),
                        ("deerapi_balance_empty_since", models.DateTimeField(blank=True, null=True)),
                        ("deerapi_key_rejected_since", models.DateTimeField(blank=True, null=True)),
                        (
                            "deerapi_checked_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="DeerAPI balance read at"),
                        ),
                        ("deerapi_username", models.CharField(blank=True, default="", max_length=150)),
                        (
                            "deerapi_balance",
                            models.DecimalField(blank=True, decimal_places=6, max_digits=16, null=True),
                        ),
                        ("deerapi_used", models.DecimalField(blank=True, decimal_places=6, max_digits=16, null=True)),
                        ("deerapi_request_count", models.PositiveBigIntegerField(blank=True, null=True)),
                        ("deerapi_keys", models.JSONField(blank=True, default=list)),
                        (
                            "deerapi_recorded",
                            models.DecimalField(blank=True, decimal_places=6, max_digits=16, null=True),
                        ),
                        ("deerapi_baseline_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "deerapi_baseline_used",
                            models.DecimalField(blank=True, decimal_places=6, max_digits=16, null=True),
                        ),
                        (
                            "deerapi_baseline_recorded",
                            models.DecimalField(blank=True, decimal_places=6, max_digits=16, null=True),
                        ),
                        ("deerapi_check_error", models.CharField(blank=True, default="", max_length=300)),
                        ("deerapi_check_failed_at", models.DateTimeField(blank=True, null=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "verbose_name": "team settings",
                        "verbose_name_plural": "team settings",
                        "db_table": "predictions_teamsettings",
                    },
                ),
                migrations.CreateModel(
                    name="MemberQuota",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "budget",
                            models.DecimalField(
                                blank=True,
                                decimal_places=4,
                                help_text="Empty: unlimited.",
                                max_digits=12,
                                null=True,
                                verbose_name="budget per period (USD)",
                            ),
                        ),
                        (
                            "period",
                            models.CharField(
                                choices=[
                                    ("day", "Daily"),
                                    ("week", "Weekly"),
                                    ("month", "Monthly"),
                                    ("none", "No budget (unlimited)"),
                                ],
                                default="month",
                                max_length=10,
                                verbose_name="period",
                            ),
                        ),
                        (
                            "max_in_flight",
                            models.PositiveIntegerField(
                                blank=True,
                                help_text="Empty: no limit.",
                                null=True,
                                verbose_name="predictions in flight at most",
                            ),
                        ),
                        (
                            "allowed_models",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text="Empty: every enabled model.",
                                verbose_name="allowed models",
                            ),
                        ),
                        ("auto_approve", models.BooleanField(default=False, verbose_name="approve automatically")),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="quota",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "member quota",
                        "verbose_name_plural": "member quotas",
                        "db_table": "predictions_memberquota",
                    },
                ),
                migrations.CreateModel(
                    name="LedgerEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("reserve", "Reserved at submit"),
                                    ("settle", "Settled to the actual cost"),
                                    ("refund", "Refunded"),
                                    ("adjustment", "Adjusted by an admin"),
                                ],
                                max_length=12,
                            ),
                        ),
                        ("amount", models.DecimalField(decimal_places=4, max_digits=12)),
                        ("model_id", models.CharField(blank=True, default="", max_length=200)),
                        ("reason", models.CharField(blank=True, default="", max_length=300)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "prediction",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="ledger",
                                to="predictions.prediction",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="ledger",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "ledger entry",
                        "verbose_name_plural": "ledger entries",
                        "db_table": "predictions_ledgerentry",
                        "indexes": [
                            models.Index(fields=["user", "created_at"], name="predictions_user_id_9a4b47_idx"),
                            models.Index(fields=["created_at"], name="predictions_created_0dfa58_idx"),
                            models.Index(fields=["model_id", "created_at"], name="predictions_model_i_286ae2_idx"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back),
    ]
