"""Reads of the catalog: the models members may use, with the admin's settings applied."""

from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from audit.models import AuditEntry
from catalog import specs as catalog
from catalog.inputs import OUTPUT_SHAPES, ModelSpec
from catalog.models import ModelConfig
from catalog.schema import SchemaError, fields_from_json_schema

logger = logging.getLogger(__name__)


def _model_from_config(config: ModelConfig) -> ModelSpec | None:
    """A model an admin added by id, or None when its schema does not convert (the admin form prevents that)."""
    try:
        fields = fields_from_json_schema(config.input_schema)
    except SchemaError as exc:
        logger.warning("model %s: unusable input schema: %s", config.model_id, exc)
        return None
    return ModelSpec(
        id=config.model_id,
        name=config.name or config.model_id,
        vendor=config.vendor or gettext("Other"),
        fields=fields,
        output=config.output_shape if config.output_shape in OUTPUT_SHAPES else "single",
        price=config.price if config.price is not None else Decimal("0"),
    )


def _model_with_config(spec: ModelSpec | None, config: ModelConfig | None) -> ModelSpec | None:
    if config is None:
        return spec
    if not config.enabled:
        return None
    if spec is None:
        return _model_from_config(config)
    changes: dict[str, Any] = {}
    if config.price is not None:
        changes["price"] = config.price
    if config.name:
        changes["name"] = config.name
    if config.vendor:
        changes["vendor"] = config.vendor
    return dataclasses.replace(spec, **changes) if changes else spec


def model_get(model_id: str) -> ModelSpec | None:
    """A model members may use now (None if unknown or disabled), with the admin's price. One query."""
    config = ModelConfig.objects.filter(model_id=model_id).first()
    return _model_with_config(catalog.get_model(model_id), config)


def models_enabled() -> list[ModelSpec]:
    """Every model members may use, grouped by vendor (catalog order; added models last). One query."""
    configs = {config.model_id: config for config in ModelConfig.objects.all()}
    specs = [_model_with_config(spec, configs.get(model_id)) for model_id, spec in catalog.MODELS.items()]
    specs += [_model_with_config(None, c) for model_id, c in configs.items() if model_id not in catalog.MODELS]
    enabled = [spec for spec in specs if spec is not None]
    vendors: dict[str, int] = {}
    for spec in enabled:
        vendors.setdefault(spec.vendor, len(vendors))
    return sorted(enabled, key=lambda spec: vendors[spec.vendor])


def models_sync_latest() -> AuditEntry | None:
    """The last report of which models DeerAPI lists (see model_sync.py)."""
    return AuditEntry.objects.filter(action="models.sync").select_related("actor").order_by("-created_at").first()
