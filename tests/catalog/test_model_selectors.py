"""catalog_selectors.model_get and models_enabled: the catalog with the admin's settings on top."""

from decimal import Decimal

import pytest

from catalog import selectors as catalog_selectors
from catalog import specs as catalog
from catalog.models import ModelConfig
from predictions import services
from predictions.models import Prediction
from tests.world import SCHNELL

pytestmark = pytest.mark.django_db
ADDED_SCHEMA = {
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string"},
        "steps": {"type": "integer", "minimum": 1, "maximum": 8, "default": 4},
    },
}


def test_a_catalog_model_without_settings_is_the_catalogs_entry():
    assert catalog_selectors.model_get(SCHNELL) is catalog.get_model(SCHNELL)
    assert catalog_selectors.model_get("acme/unknown") is None


def test_a_disabled_model_is_not_available_to_members():
    ModelConfig.objects.create(model_id=SCHNELL, enabled=False)
    assert catalog_selectors.model_get(SCHNELL) is None
    assert SCHNELL not in {spec.id for spec in catalog_selectors.models_enabled()}


def test_the_admins_price_and_name_replace_the_list_price_and_name():
    ModelConfig.objects.create(model_id=SCHNELL, price=Decimal("0.0100"), name="Schnell (team)")
    spec = catalog_selectors.model_get(SCHNELL)
    assert spec.price == Decimal("0.0100")
    assert spec.name == "Schnell (team)"
    assert spec.fields is catalog.get_model(SCHNELL).fields


def test_a_model_added_by_id_is_built_from_its_json_schema():
    ModelConfig.objects.create(
        model_id="acme/painter",
        name="Painter",
        vendor="Acme",
        price=Decimal("0.02"),
        input_schema=ADDED_SCHEMA,
        output_shape="list",
    )
    spec = catalog_selectors.model_get("acme/painter")
    assert (spec.name, spec.vendor, spec.output, spec.price) == ("Painter", "Acme", "list", Decimal("0.02"))
    assert [(f.name, f.kind, f.default) for f in spec.fields] == [("prompt", "text", None), ("steps", "integer", 4)]


def test_an_added_model_whose_schema_no_longer_converts_is_left_out():
    ModelConfig.objects.create(model_id="acme/broken", price=Decimal("0.02"), input_schema={"properties": {}})
    assert catalog_selectors.model_get("acme/broken") is None
    assert "acme/broken" not in {spec.id for spec in catalog_selectors.models_enabled()}


def test_enabled_models_come_grouped_by_vendor_in_one_query(django_assert_num_queries):
    ModelConfig.objects.create(model_id="acme/painter", vendor="Acme", price=Decimal("0.02"), input_schema=ADDED_SCHEMA)
    ModelConfig.objects.create(model_id="ideogram-ai/ideogram-v2", enabled=False)
    with django_assert_num_queries(1):
        models = catalog_selectors.models_enabled()
    vendors = [spec.vendor for spec in models]
    assert vendors == sorted(vendors, key=vendors.index), "each vendor's models are together"
    assert vendors[0] == "Black Forest Labs" and vendors[-1] == "Acme"
    assert len(models) == 28
    assert "ideogram-ai/ideogram-v2" not in {spec.id for spec in models}


def test_prediction_create_uses_the_admins_price_and_refuses_a_disabled_model(member):
    ModelConfig.objects.create(model_id=SCHNELL, price=Decimal("0.0100"))
    prediction = services.prediction_create(
        owner=member, model_id=SCHNELL, input={"prompt": "a deer", "num_outputs": 2}
    )
    assert prediction.price == Decimal("0.0100")
    assert prediction.estimated_cost == Decimal("0.0200")
    ModelConfig.objects.filter(model_id=SCHNELL).update(enabled=False)
    with pytest.raises(services.PredictionInputError) as exc:
        services.prediction_create(owner=member, model_id=SCHNELL, input={"prompt": "a deer"})
    assert "model" in exc.value.errors
    assert Prediction.objects.count() == 1


def test_prediction_create_validates_an_added_model_against_its_schema(member):
    ModelConfig.objects.create(model_id="acme/painter", price=Decimal("0.02"), input_schema=ADDED_SCHEMA)
    with pytest.raises(services.PredictionInputError) as exc:
        services.prediction_create(owner=member, model_id="acme/painter", input={"prompt": "x", "steps": 9})
    assert exc.value.errors == {"steps": "Must be at most 8."}
    prediction = services.prediction_create(owner=member, model_id="acme/painter", input={"prompt": "x", "steps": 8})
    assert prediction.input == {"prompt": "x", "steps": 8}
