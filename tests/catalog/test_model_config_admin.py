"""The admin's model settings: enable, price, add a model by id with a JSON Schema, and the
"Check DeerAPI's model list" button (a Celery task, never a call from the web request)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from celery import current_app
from django.urls import reverse

from audit.models import AuditEntry
from catalog.models import ModelConfig
from tests.world import IDEOGRAM, SCHNELL, wait_until

CHANGELIST = reverse("admin:catalog_modelconfig_changelist")
ADD = reverse("admin:catalog_modelconfig_add")
CHECK = reverse("admin:catalog_modelconfig_check")
SCHEMA = (
    '{"required": ["prompt"], "properties": {"prompt": {"type": "string"}, '
    '"steps": {"type": "integer", "minimum": 1, "maximum": 8, "default": 4}}}'
)


def add(admin_client, **data):
    form = {
        "model_id": "",
        "enabled": "on",
        "price": "",
        "name": "",
        "vendor": "",
        "output_shape": "single",
        "input_schema": "{}",
        **data,
    }
    return admin_client.post(ADD, form)


@pytest.mark.django_db
def test_the_model_list_shows_the_built_in_catalog_and_that_no_check_ran_yet(admin_client):
    html = admin_client.get(CHANGELIST).content.decode()
    assert "Check DeerAPI&#x27;s model list" in html or "Check DeerAPI's model list" in html
    assert "Not checked yet" in html
    assert html.count(f'href="{ADD}?model_id=') == 28
    assert "no documented schema" in html


@pytest.mark.django_db
def test_an_admin_adds_a_model_by_id_and_members_can_use_it(admin_client, member_client):
    response = add(
        admin_client, model_id="acme/painter", name="Painter", vendor="Acme", price="0.02", input_schema=SCHEMA
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    config = ModelConfig.objects.get(model_id="acme/painter")
    assert config.price == Decimal("0.0200")
    html = member_client.get(reverse("predictions:new"), {"model": "acme/painter"}).content.decode()
    assert '<optgroup label="Acme">' in html
    assert 'name="steps"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "model_id": "acme/painter",
                "price": "0.02",
                "input_schema": '{"properties": {"text": {"type": "string"}}}',
            },
            "needs a string property “prompt”",
        ),
        ({"model_id": "acme/painter", "price": "0.02", "input_schema": "{}"}, "needs its input schema"),
        ({"model_id": "acme/painter", "input_schema": SCHEMA}, "needs a price per image"),
        ({"model_id": SCHNELL, "input_schema": SCHEMA}, "leave the schema empty"),
        ({"model_id": "acme/painter", "price": "-1", "input_schema": SCHEMA}, "cannot be negative"),
        ({"model_id": "acme painter", "price": "0.02", "input_schema": SCHEMA}, "Enter DeerAPI&#x27;s model id"),
        (
            {
                "model_id": "acme/painter",
                "price": "0.02",
                "input_schema": '{"properties": {"prompt": {"type": "string"}, "model": {"type": "string"}}}',
            },
            "reserved by DeerWeb: model",
        ),
    ],
)
def test_a_model_the_admin_gets_wrong_is_refused_with_a_clear_message(admin_client, data, message):
    response = add(admin_client, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ModelConfig.objects.exists()


@pytest.mark.django_db
def test_an_admin_disables_and_prices_a_catalog_model(admin_client, member_client):
    form = admin_client.get(ADD, {"model_id": "ideogram-ai/ideogram-v2"}).content.decode()
    assert 'value="Ideogram 2.0"' in form, "the catalog's name is offered"
    add(admin_client, model_id="ideogram-ai/ideogram-v2", enabled="", price="0.07", input_schema="{}")
    assert ModelConfig.objects.get().enabled is False
    assert 'value="ideogram-ai/ideogram-v2"' not in member_client.get(reverse("predictions:new")).content.decode()
    admin_client.post(CHANGELIST, {"action": "enable_selected", "_selected_action": [ModelConfig.objects.get().pk]})
    html = member_client.get(reverse("predictions:new")).content.decode()
    assert "Ideogram 2.0 · $0.07 per image" in html


@pytest.mark.django_db
def test_the_check_button_queues_a_task_after_commit_and_never_calls_deerapi_itself(
    admin_client, admin_user, simulator, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args=(), **options: sent.append((name, *args)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(CHECK)
    assert response.status_code == 302 and response["Location"] == CHANGELIST
    assert simulator.stats.model_lists == 0
    assert sent == [] and len(callbacks) == 1
    callbacks[0]()
    assert sent == [("predictions.tasks.models_sync", admin_user.pk)]


@pytest.mark.django_db
def test_the_check_is_a_post_for_admins_only(admin_client, member_client):
    assert admin_client.get(CHECK).status_code == 403
    response = member_client.post(CHECK)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_report_of_the_queued_check_appears_on_the_model_list(worker, simulator, admin_client, admin_user):
    listed = [
        {"id": model_id}
        for model_id in (
            SCHNELL,
            "black-forest-labs/flux-3-pro",
            "gpt-4o",
            IDEOGRAM,
        )
    ]
    simulator.inject("models", status=200, body={"object": "list", "data": listed})
    admin_client.post(CHECK)
    wait_until(AuditEntry.objects.filter(action="models.sync").exists, what="the check's audit entry")
    entry = AuditEntry.objects.get(action="models.sync")
    assert entry.actor == admin_user
    assert entry.after["new"] == ["black-forest-labs/flux-3-pro"]
    assert "recraft-ai/recraft-v3" in entry.after["missing"] and len(entry.after["missing"]) == 26
    html = admin_client.get(CHANGELIST).content.decode()
    assert "black-forest-labs/flux-3-pro" in html and f"{ADD}?model_id=black-forest-labs/flux-3-pro" in html
    assert "dora" in html, "who asked is shown"
