"""Review of generations: approve, reject, automatic approval, privacy, file deletion.

Only succeeded predictions are reviewed. A decision moves `review_state` with a
conditional UPDATE on rows locked in the same transaction, so two reviewers
deciding at once cannot both win: the second one's row is no longer pending and
it is reported back as skipped. Every decision writes an audit entry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import CharField, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import audit_record
from billing.models import MemberQuota
from catalog.models import ModelConfig
from predictions import uploads
from predictions.models import Prediction, ReviewState, Status, User

logger = logging.getLogger(__name__)

# The short list a reviewer picks from. Stored in English and translated when shown
# (see `reason_display`), so the owner reads it in their own language.
REJECT_REASONS: dict[str, str] = {
    "quality": gettext_noop("Poor quality or visible defects"),
    "prompt": gettext_noop("Does not match the prompt"),
    "guidelines": gettext_noop("Against the team's guidelines"),
    "duplicate": gettext_noop("Duplicate of another image"),
}
REASON_SEPARATOR = " — "
REASON_MAX_LENGTH = 500


class ReviewError(ValueError):
    """A review request that cannot be carried out; the message is for the reviewer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def reject_reason(choice: str, details: str = "") -> str:
    """The reason to store: a listed reason (with optional details) or free text ("other")."""
    details = " ".join(details.split())
    if choice in REJECT_REASONS:
        reason = REJECT_REASONS[choice] + (REASON_SEPARATOR + details if details else "")
    elif choice in ("", "other"):
        if not details:
            raise ReviewError(_("Give a reason for the rejection: pick one or write it."))
        reason = details
    else:
        raise ReviewError(_("Unknown reason “%(choice)s”.") % {"choice": choice})
    if len(reason) > REASON_MAX_LENGTH:
        raise ReviewError(_("The reason is too long: at most %(n)d characters.") % {"n": REASON_MAX_LENGTH})
    return reason


def reason_display(reason: str) -> str:
    """A stored reason in the reader's language (a listed reason is translated, free text is not)."""
    for text in REJECT_REASONS.values():
        if reason == text:
            return _(text)
        if reason.startswith(text + REASON_SEPARATOR):
            return _(text) + reason[len(text) :]
    return reason


# --- Decisions ------------------------------------------------------------------


def review_approve(prediction: Prediction, *, by: User, revise: bool = False) -> bool:
    """Approve one prediction. False if someone decided first (or it cannot be approved)."""
    return bool(review_approve_many([prediction.pk], by=by, revise=revise))


def review_reject(prediction: Prediction, *, by: User, reason: str, revise: bool = False) -> bool:
    """Reject one prediction with a reason shown to its owner. False if someone decided first."""
    return bool(review_reject_many([prediction.pk], by=by, reason=reason, revise=revise))


def review_approve_many(ids: Iterable[int], *, by: User, revise: bool = False) -> list[int]:
    """Approve every pending (with `revise`: also rejected) prediction among `ids`.

    Returns the ids approved now; the others were decided by someone else, are
    not succeeded, or had their files deleted.
    """
    olds = (ReviewState.PENDING, ReviewState.REJECTED) if revise else (ReviewState.PENDING,)
    return _decide(ids, ReviewState.APPROVED, olds, by=by, reason="", action="prediction.approve")


def review_reject_many(ids: Iterable[int], *, by: User, reason: str, revise: bool = False) -> list[int]:
    """Reject every pending (with `revise`: also approved) prediction among `ids` with `reason`."""
    reason = reason.strip()
    if not reason:
        raise ReviewError(_("Give a reason for the rejection: pick one or write it."))
    olds = (ReviewState.PENDING, ReviewState.APPROVED) if revise else (ReviewState.PENDING,)
    return _decide(ids, ReviewState.REJECTED, olds, by=by, reason=reason, action="prediction.reject")


def _decide(
    ids: Iterable[int],
    new: str,
    olds: tuple[str, ...],
    *,
    by: User | None,
    reason: str,
    action: str,
    summary: str = "",
) -> list[int]:
    ids = sorted({int(pk) for pk in ids})
    if not ids:
        return []
    now = timezone.now()
    with transaction.atomic():
        rows = Prediction.objects.select_for_update().filter(pk__in=ids, status=Status.SUCCEEDED, review_state__in=olds)
        if new == ReviewState.APPROVED:
            rows = rows.filter(files_deleted_at__isnull=True)
        # Locked in id order, so two bulk decisions over overlapping ids cannot deadlock.
        found = list(rows.order_by("pk").values_list("pk", "review_state", "review_reason"))
        decided = [pk for pk, _state, _reason in found]
        if not decided:
            return []
        Prediction.objects.filter(pk__in=decided, review_state__in=olds).update(
            review_state=new, reviewed_by=by, reviewed_at=now, review_reason=reason
        )
        for pk, state, old_reason in found:
            before = {"review_state": state}
            if old_reason:
                before["review_reason"] = old_reason
            after = {"review_state": new, "automatic": by is None}
            if reason:
                after["review_reason"] = reason
            audit_record(
                actor=by, action=action, target=Prediction(pk=pk), summary=summary or reason, before=before, after=after
            )
    logger.info("review %s by=%s ids=%s", new, by.pk if by else "auto", decided)
    return decided


def prediction_auto_review(prediction: Prediction) -> None:
    """Approve a just-succeeded prediction when its member or its model is set to auto-approve.

    Runs inside the transaction that makes it succeed, with the prediction as settlement
    loaded it; the audit entry has no actor and names the rule that approved it.
    """
    # Both rules in one query: this runs as every prediction succeeds. Neither side may carry
    # a default ordering: SQLite refuses ORDER BY inside the parts of a compound SELECT.
    member_rule = (
        MemberQuota.objects.filter(user_id=prediction.owner_id, auto_approve=True)
        .order_by()
        .values_list(Value("member", output_field=CharField()))
    )
    model_rule = (
        ModelConfig.objects.filter(model_id=prediction.model_id, auto_approve=True)
        .order_by()
        .values_list(Value("model", output_field=CharField()))
    )
    rules = {rule for (rule,) in member_rule.union(model_rule)}
    if "member" in rules:
        summary = "approved automatically: the member is set to auto-approve"
    elif "model" in rules:
        summary = f"approved automatically: {prediction.model_id} is set to auto-approve"
    else:
        return
    _decide(
        [prediction.pk],
        ReviewState.APPROVED,
        (ReviewState.PENDING,),
        by=None,
        reason="",
        action="prediction.approve",
        summary=summary,
    )


# --- Privacy and stored files ---------------------------------------------------------


def prediction_set_private(prediction: Prediction, private: bool, *, by: User) -> bool:
    """Keep a prediction out of the team gallery (or let it in). False if already so."""
    with transaction.atomic():
        changed = Prediction.objects.filter(pk=prediction.pk).exclude(is_private=private).update(is_private=private)
        if changed:
            audit_record(
                actor=by,
                action="prediction.private" if private else "prediction.public",
                target=prediction,
                before={"is_private": not private},
                after={"is_private": private},
            )
    prediction.is_private = private
    return bool(changed)


def prediction_files_delete(prediction: Prediction, *, by: User) -> bool:
    """Delete the stored images and thumbnails of a rejected prediction.

    The prediction and its audit trail stay; its output rows go (so no page links
    to a missing file) after their names, sizes and checksums are written to the
    audit entry. The files leave storage only once the transaction has committed.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = Prediction.objects.filter(
            pk=prediction.pk, review_state=ReviewState.REJECTED, files_deleted_at__isnull=True
        ).update(files_deleted_at=now)
        if not claimed:
            return False
        outputs = list(prediction.outputs.order_by("index"))
        names = [name for output in outputs for name in (output.file.name, output.thumbnail.name) if name]
        names += uploads.input_images_release(prediction)  # the uploaded images it was made with
        audit_record(
            actor=by,
            action="prediction.delete_files",
            target=prediction,
            summary=f"{len(names)} stored files deleted",
            before={"files": [f"{o.file.name} {o.content_type} {o.size} bytes sha256:{o.checksum}" for o in outputs]},
            after={"files_deleted_at": now.isoformat()},
        )
        prediction.outputs.all().delete()
        transaction.on_commit(lambda: uploads.storage_files_delete(names))
    prediction.files_deleted_at = now
    logger.info("prediction=%s files deleted by=%s (%d files)", prediction.pk, by.pk, len(names))
    return True


def prediction_finished_received(sender: object, *, prediction: Prediction, status: str, **kwargs: object) -> None:
    """predictions.signals.prediction_finished: a prediction that succeeded may be approved at once."""
    if status == Status.SUCCEEDED:
        prediction_auto_review(prediction)
