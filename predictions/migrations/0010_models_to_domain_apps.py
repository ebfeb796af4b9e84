"""The quota, ledger, catalog, audit and health models now belong to their own apps: only
Django's record of them moves; their tables stay as they are (each keeps its db_table)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('predictions', '0009_audit_json_encoder'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='auditentry',
                    name='actor',
                ),
                migrations.DeleteModel(
                    name='Heartbeat',
                ),
                migrations.RemoveField(
                    model_name='ledgerentry',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='ledgerentry',
                    name='prediction',
                ),
                migrations.RemoveField(
                    model_name='ledgerentry',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='memberquota',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='ModelConfig',
                ),
                migrations.DeleteModel(
                    name='TaskFailure',
                ),
                migrations.DeleteModel(
                    name='TeamSettings',
                ),
                migrations.DeleteModel(
                    name='AuditEntry',
                ),
                migrations.DeleteModel(
                    name='LedgerEntry',
                ),
                migrations.DeleteModel(
                    name='MemberQuota',
                ),
            ],
            database_operations=[],
        ),
    ]
