"""Roles as Django groups (so admins assign them in the admin site), and a trigram
index for searching prompt text on PostgreSQL."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MEMBER = [
    ("predictions", "add_prediction"),
    ("predictions", "view_prediction"),
    ("predictions", "add_prompt"),
    ("predictions", "change_prompt"),
    ("predictions", "view_prompt"),
]
REVIEWER = MEMBER + [
    ("predictions", "view_team_predictions"),
    ("predictions", "review_prediction"),
]
ROLES = {"Member": MEMBER, "Reviewer": REVIEWER}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codes:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    admin, _ = Group.objects.get_or_create(name="Admin")
    admin.permissions.set(
        Permission.objects.filter(content_type__app_label__in=["predictions", "auth"])
    )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Member", "Reviewer", "Admin"]).delete()


def add_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS prompt_text_trgm_idx ON predictions_prompt USING gin (text gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS prompt_text_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("predictions", "0002_team_models"),
    ]

    operations = [
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(add_trigram_index, drop_trigram_index),
    ]
