"""manage.py deerapi_models: which models DeerAPI no longer lists, and which new ones it offers."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from catalog import specs as catalog
from catalog.models import ModelConfig

pytestmark = pytest.mark.django_db


def run() -> str:
    out = StringIO()
    call_command("deerapi_models", stdout=out)
    return out.getvalue()


def test_when_deerapi_lists_every_model_nothing_is_missing_or_new(simulator):
    out = run()
    assert "DeerAPI lists 28 models." in out
    assert "Every DeerWeb model is listed." in out
    assert "No new models from known vendors." in out
    assert simulator.stats.model_lists == 1


def test_missing_and_new_models_are_reported_and_recorded_in_the_audit_log(simulator):
    ModelConfig.objects.create(
        model_id="acme/painter", price=Decimal("0.02"), input_schema={"properties": {"prompt": {"type": "string"}}}
    )
    listed = [m for m in catalog.MODELS if m != "recraftv3"] + [
        "black-forest-labs/flux-3-pro",
        "acme/painter-2",
        "gpt-4o",
        "someone/else",
        "claude-sonnet",
    ]
    simulator.inject("models", status=200, body={"object": "list", "data": [{"id": m} for m in listed]})
    out = run()
    assert "  - acme/painter\n" in out and "  - recraftv3\n" in out
    assert "  + acme/painter-2\n" in out and "  + black-forest-labs/flux-3-pro\n" in out
    assert "gpt-4o" not in out and "someone/else" not in out, "only vendors DeerWeb knows"
    entry = AuditEntry.objects.get(action="models.sync")
    assert entry.actor is None
    assert entry.after["missing"] == ["acme/painter", "recraftv3"]
    assert entry.after["new"] == ["acme/painter-2", "black-forest-labs/flux-3-pro"]


def test_a_deerapi_failure_stops_the_command_with_its_reason_and_is_recorded(simulator):
    simulator.inject("models", status=401)
    with pytest.raises(CommandError, match="model list could not be read"):
        run()
    assert AuditEntry.objects.get(action="models.sync").after["error"]
