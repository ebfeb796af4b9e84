"""Quotas and cost accounting: reserve at submit, settle or refund at the end.

Called by services.prediction_create (inside its transaction, before and after
the prediction row is saved) and by services._on_finished (inside the
transaction that ends the prediction).
"""

from __future__ import annotations

from decimal import Decimal

from . import catalog
from .models import Prediction


def quota_reserve(prediction: Prediction, spec: catalog.ModelSpec) -> None:
    """Price the prediction before it is saved: price per image × images requested."""
    prediction.price = spec.price
    requested = prediction.input.get("num_outputs", 1)
    prediction.estimated_cost = (spec.price * Decimal(requested)).quantize(Decimal("0.0001"))


def reservation_record(prediction: Prediction) -> None:
    """Record the reservation for a just-saved prediction (the ledger comes with quotas)."""


def prediction_settle(prediction_id: int) -> None:
    """Settle or refund a finished prediction (the ledger comes with quotas)."""
