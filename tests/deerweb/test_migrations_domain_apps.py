"""A database made before the domains had their own apps migrates forward with nothing lost.

The test takes its own test database back to the last migration of that release
(predictions 0009, none of the new apps'), fills it through the historical models as that
release would have (members, roles, a prediction with its output, quotas, the ledger,
reviews, audit entries, model settings, heartbeats), migrates forward, and reads it all
back through today's models, permissions and pages.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from billing.models import LedgerEntry, MemberQuota, TeamSettings
from catalog.models import ModelConfig
from ops.models import Heartbeat, TaskFailure
from predictions.models import Prediction, PredictionOutput, User
from tests.world import PASSWORD, SCHNELL

# The release before the domain apps: its last migration, and the apps that did not exist.
BEFORE = [
    ("predictions", "0009_audit_json_encoder"),
    ("audit", None),
    ("billing", None),
    ("catalog", None),
    ("ops", None),
]
ADDED_MODEL = "acme/migration-test"
MOVED = {
    "auditentry": "audit",
    "memberquota": "billing",
    "teamsettings": "billing",
    "ledgerentry": "billing",
    "modelconfig": "catalog",
    "heartbeat": "ops",
    "taskfailure": "ops",
}


def _migrate(targets: list[tuple[str, str | None]] | None = None):
    """Migrate the test database to `targets` (None: the latest); returns the models at that state."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    nodes = [(app, name) for app, name in targets if name is not None]
    return MigrationExecutor(connection).loader.project_state(nodes).apps


def _rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a table name of ours
        return cursor.fetchone()[0]


def _old_release_rows(old) -> dict[str, int]:
    """What the old release would have stored, written through its own models. Returns ids."""
    OldUser = old.get_model("predictions", "User")
    Group_ = old.get_model("auth", "Group")
    Permission = old.get_model("auth", "Permission")
    ContentType_ = old.get_model("contenttypes", "ContentType")

    admin = OldUser.objects.create(username="ada", is_staff=True, password="!")
    member = OldUser.objects.create(username="ben", password="!")
    # The old release's Admin group holds the quota permissions under the predictions app.
    quota_type = ContentType_.objects.get(app_label="predictions", model="memberquota")
    group = Group_.objects.create(name="Old admins")
    group.permissions.set(Permission.objects.filter(content_type=quota_type))
    admin.groups.add(group)

    prompt = old.get_model("predictions", "Prompt").objects.create(owner=member, text="a red deer")
    prediction = old.get_model("predictions", "Prediction").objects.create(
        owner=member,
        prompt=prompt,
        model_id=SCHNELL,
        status="succeeded",
        price=Decimal("0.003"),
        estimated_cost=Decimal("0.003"),
        actual_cost=Decimal("0.003"),
        review_state="approved",
        reviewed_by=admin,
    )
    old.get_model("predictions", "PredictionOutput").objects.create(
        prediction=prediction,
        index=0,
        source_url="https://example.com/out.png",
        file="outputs/2026/11/out.png",
        content_type="image/png",
        size=100,
    )
    old.get_model("predictions", "MemberQuota").objects.create(user=member, budget=Decimal("5"), auto_approve=True)
    team, _ = old.get_model("predictions", "TeamSettings").objects.update_or_create(
        pk=1, defaults={"team_monthly_budget": Decimal("50")}
    )
    Ledger = old.get_model("predictions", "LedgerEntry")
    Ledger.objects.create(user=member, prediction=prediction, kind="reserve", amount=Decimal("0.009"))
    Ledger.objects.create(user=member, prediction=prediction, kind="settle", amount=Decimal("-0.006"))
    old.get_model("predictions", "ModelConfig").objects.create(model_id=ADDED_MODEL, price=Decimal("0.004"))
    # The test worker's beat may write heartbeats and failures too: these have names of their own.
    old.get_model("predictions", "Heartbeat").objects.create(name="migration-test", at=prediction.created_at)
    old.get_model("predictions", "TaskFailure").objects.create(task="migration-test", error="OSError")
    Audit = old.get_model("predictions", "AuditEntry")
    Audit.objects.create(actor=admin, action="quota.change", target_type="predictions.memberquota", target_id="1")
    Audit.objects.create(actor=admin, action="quota.change", target_type="predictions.teamsettings", target_id="1")
    Audit.objects.create(actor=None, action="models.sync", target_type="predictions.teamsettings", target_id="1")
    Audit.objects.create(
        actor=admin, action="prediction.approve", target_type="predictions.prediction", target_id=str(prediction.pk)
    )
    return {"admin": admin.pk, "member": member.pk, "prediction": prediction.pk, "team": team.pk}


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_release_before_the_domain_apps_migrates_forward_with_nothing_lost():
    try:
        ids = _old_release_rows(_migrate(BEFORE))
        counts_before = {label: _rows(f"predictions_{label}") for label in MOVED}
    finally:
        _migrate()

    # Every table kept its rows, and today's models read them.
    assert counts_before["auditentry"] >= 4 and counts_before["ledgerentry"] >= 2
    for model in (AuditEntry, MemberQuota, LedgerEntry, ModelConfig):
        assert model.objects.count() == counts_before[model._meta.model_name]
    assert Heartbeat.objects.filter(name="migration-test").exists()
    assert TaskFailure.objects.filter(task="migration-test", error="OSError").exists()
    prediction = Prediction.objects.get(pk=ids["prediction"])
    assert PredictionOutput.objects.get(prediction=prediction).size == 100
    assert sum(entry.amount for entry in prediction.ledger.all()) == Decimal("0.003")
    assert MemberQuota.objects.get(user_id=ids["member"]).auto_approve is True
    assert TeamSettings.load().team_monthly_budget == Decimal("50")
    assert ModelConfig.objects.get(model_id=ADDED_MODEL).price == Decimal("0.004")

    # Content types moved with their models: no stale type is left, and permissions follow.
    for model, app in MOVED.items():
        assert ContentType.objects.filter(app_label=app, model=model).count() == 1
        assert not ContentType.objects.filter(app_label="predictions", model=model).exists()
    admin = User.objects.get(pk=ids["admin"])
    assert admin.has_perm("billing.change_memberquota")
    assert Group.objects.get(name="Old admins").permissions.filter(content_type__app_label="billing").count() == 4

    # Stored audit entries name today's labels, and each resolves to its model.
    ours = AuditEntry.objects.filter(actor_id=ids["admin"]) | AuditEntry.objects.filter(action="models.sync")
    labels = set(ours.values_list("target_type", flat=True))
    assert labels == {"billing.memberquota", "billing.teamsettings", "catalog.modelconfig", "predictions.prediction"}
    for label in labels:
        assert ContentType.objects.get_by_natural_key(*label.split(".")).model_class() is not None
    assert AuditEntry.objects.get(action="models.sync").target_id == ""


@pytest.mark.django_db(transaction=True)
def test_the_audit_log_filters_entries_written_before_the_move_by_their_new_label():
    try:
        ids = _old_release_rows(_migrate(BEFORE))
    finally:
        _migrate()
    admin = User.objects.get(pk=ids["admin"])
    admin.is_superuser = True
    admin.set_password(PASSWORD)
    admin.save()
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("audit:list"), {"target_type": "billing.memberquota"}).content.decode()
    assert page.count("<code>quota.change</code>") == 1
    page = client.get(reverse("audit:list"), {"target_type": "billing.teamsettings"}).content.decode()
    assert page.count("<code>quota.change</code>") == 1 and "<code>models.sync</code>" not in page
    page = client.get(reverse("audit:list"), {"target_type": "catalog.modelconfig"}).content.decode()
    assert page.count("<code>models.sync</code>") == 1
