"""Audit entries name their target by its model's label ("billing.memberquota"): entries
written before the models moved to their own apps name the old label, and now the new one,
so the audit log's target filter and the team page's history still find them."""

from django.db import migrations

MOVED = {
    "predictions.memberquota": "billing.memberquota",
    "predictions.teamsettings": "billing.teamsettings",
    "predictions.ledgerentry": "billing.ledgerentry",
    "predictions.modelconfig": "catalog.modelconfig",
    "predictions.auditentry": "audit.auditentry",
    "predictions.heartbeat": "ops.heartbeat",
    "predictions.taskfailure": "ops.taskfailure",
}


def labels_rewrite(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    for old, new in MOVED.items():
        AuditEntry.objects.filter(target_type=old).update(target_type=new)
    # A check of DeerAPI's model list is about the models, not the team's settings row.
    AuditEntry.objects.filter(action="models.sync").update(target_type="catalog.modelconfig", target_id="")


def labels_rewrite_back(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    AuditEntry.objects.filter(action="models.sync").update(target_type="predictions.teamsettings", target_id="1")
    for old, new in MOVED.items():
        AuditEntry.objects.filter(target_type=new).update(target_type=old)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(labels_rewrite, labels_rewrite_back)]
