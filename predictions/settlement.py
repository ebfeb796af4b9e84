"""What a prediction costs once it has ended: its settlement, and refunds.

A prediction is settled once, in the transaction that ends it: succeeded → the
difference between the reserved estimate and price × images DeerAPI made; failed or
canceled (timed out is failed) → the reservation back; outcome unknown → nothing, the
reservation stays until an admin resolves it. Each runs with the prediction's row locked
and writes through billing's ledger (`billing.prediction_charge`).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from audit.services import audit_record
from billing import services as billing
from billing.models import LedgerKind
from predictions.models import TERMINAL, Prediction, Status, User


def _images_made(prediction: Prediction) -> int:
    """Images DeerAPI made: its `metrics.image_count`, else the outputs we stored."""
    count = prediction.metrics.get("image_count") if isinstance(prediction.metrics, dict) else None
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    if prediction.status == Status.SUCCEEDED:
        return prediction.outputs.count()
    return 0


def prediction_settle(prediction: Prediction) -> Prediction:
    """Settle a prediction that just ended, once: called inside the transaction that ends it,
    with its row as that transaction's `UPDATE … RETURNING` left it, locked (see
    services.prediction_transition).

    Sets `actual_cost` (what DeerAPI charges the team: price × images it made,
    even when storing them then failed) and `image_count`. The member pays the
    actual cost of a succeeded prediction and nothing for any other end.
    Idempotent: a prediction with an actual cost or a settle/refund entry is left alone.
    Returns the prediction, settled, for what else follows its end.
    """
    if prediction.status not in TERMINAL:
        return prediction  # unknown: the reservation stays until an admin resolves it
    with transaction.atomic(savepoint=False):
        net, finals = billing.prediction_charged(prediction.pk)
        if prediction.actual_cost is not None or finals:
            return prediction
        images = _images_made(prediction)
        charged = billing.money(prediction.price * images)
        succeeded = prediction.status == Status.SUCCEEDED
        owed = charged if succeeded else billing.ZERO
        if owed != net:
            billing.prediction_charge(prediction, LedgerKind.SETTLE if succeeded else LedgerKind.REFUND, owed - net)
        Prediction.objects.filter(pk=prediction.pk).update(actual_cost=charged, image_count=images)
    prediction.actual_cost, prediction.image_count = charged, images
    return prediction


def prediction_refund(prediction: Prediction, *, by: User) -> bool:
    """Give a member back all a finished prediction cost them (a bad image, say).

    The prediction's `actual_cost` (DeerAPI's charge to the team) stays. Returns
    False when there is nothing to give back or it has not finished (an unknown
    one is resolved instead).
    """
    billing.admin_required(by)
    with transaction.atomic():
        locked = Prediction.objects.select_for_update().filter(pk=prediction.pk, status__in=TERMINAL).first()
        if locked is None:
            return False
        net, _finals = billing.prediction_charged(locked.pk)
        if net <= 0:
            return False
        billing.prediction_charge(locked, LedgerKind.REFUND, -net, by=by)
        audit_record(
            actor=by,
            action="prediction.refund",
            target=locked,
            summary=f"#{locked.pk}: refunded {billing.format_usd(net)}",
            before={"charged": net},
            after={"charged": billing.ZERO},
        )
    return True


def recorded_cost() -> Decimal:
    """What DeerWeb recorded DeerAPI charging the team, over every settled prediction."""
    return Prediction.objects.aggregate(total=Sum("actual_cost"))["total"] or billing.ZERO
