"""The review service: approve, reject, bulk, automatic approval, privacy and file deletion."""

from __future__ import annotations

import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connections

from audit.models import AuditEntry
from billing.models import MemberQuota
from catalog.models import ModelConfig
from predictions import services
from predictions.models import Prediction, PredictionOutput, ReviewState, Status
from reviews import services as reviews
from tests.world import PRO, SCHNELL, finished_prediction, submit, wait_for

pytestmark = pytest.mark.django_db


def audit_of(prediction: Prediction, action: str) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(target_type="predictions.prediction", target_id=str(prediction.pk), action=action)
    )


# --- Approve and reject -------------------------------------------------------------


def test_approving_a_pending_prediction_records_who_and_when_and_writes_an_audit_entry(member, reviewer):
    prediction = finished_prediction(member)

    assert reviews.review_approve(prediction, by=reviewer)

    prediction.refresh_from_db()
    assert prediction.review_state == ReviewState.APPROVED
    assert prediction.reviewed_by == reviewer
    assert prediction.reviewed_at is not None
    [entry] = audit_of(prediction, "prediction.approve")
    assert entry.actor == reviewer
    assert entry.before == {"review_state": "pending"}
    assert entry.after == {"review_state": "approved", "automatic": False}


def test_rejecting_stores_the_reason_for_the_owner_and_audits_before_and_after(member, reviewer):
    prediction = finished_prediction(member)

    assert reviews.review_reject(prediction, by=reviewer, reason="Too blurry")

    prediction.refresh_from_db()
    assert prediction.review_state == ReviewState.REJECTED
    assert prediction.review_reason == "Too blurry"
    [entry] = audit_of(prediction, "prediction.reject")
    assert entry.actor == reviewer
    assert entry.before == {"review_state": "pending"}
    assert entry.after == {"review_state": "rejected", "automatic": False, "review_reason": "Too blurry"}


def test_a_rejection_without_a_reason_is_refused_and_changes_nothing(member, reviewer):
    prediction = finished_prediction(member)
    with pytest.raises(reviews.ReviewError):
        reviews.review_reject(prediction, by=reviewer, reason="   ")
    prediction.refresh_from_db()
    assert prediction.review_state == ReviewState.PENDING
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("status", [Status.FAILED, Status.CANCELED, Status.PROCESSING, Status.UNKNOWN])
def test_only_succeeded_predictions_can_be_reviewed(member, reviewer, status):
    prediction = finished_prediction(member, status=status)
    assert not reviews.review_approve(prediction, by=reviewer)
    assert not reviews.review_reject(prediction, by=reviewer, reason="no")
    prediction.refresh_from_db()
    assert prediction.review_state == ReviewState.PENDING
    assert not AuditEntry.objects.exists()


def test_a_decision_is_made_once_and_a_second_reviewer_is_told_it_was_taken(member, reviewer, admin_user):
    prediction = finished_prediction(member)
    assert reviews.review_approve(prediction, by=reviewer)

    assert not reviews.review_reject(prediction, by=admin_user, reason="late")
    assert not reviews.review_approve(prediction, by=admin_user)

    prediction.refresh_from_db()
    assert (prediction.review_state, prediction.reviewed_by) == (ReviewState.APPROVED, reviewer)
    assert AuditEntry.objects.count() == 1


def test_an_admin_can_revise_an_approval_into_a_rejection(member, reviewer, admin_user):
    prediction = finished_prediction(member)
    reviews.review_approve(prediction, by=reviewer)

    assert reviews.review_reject(prediction, by=admin_user, reason="Found a problem later", revise=True)

    prediction.refresh_from_db()
    assert prediction.review_state == ReviewState.REJECTED
    [entry] = audit_of(prediction, "prediction.reject")
    assert entry.before == {"review_state": "approved"}


def test_a_prediction_whose_files_were_deleted_cannot_be_approved_again(member, reviewer, admin_user):
    prediction = finished_prediction(member)
    reviews.review_reject(prediction, by=reviewer, reason="no")
    reviews.prediction_files_delete(prediction, by=admin_user)
    assert not reviews.review_approve(prediction, by=admin_user, revise=True)


def test_bulk_approval_decides_the_pending_ones_and_reports_which(member, other_member, reviewer):
    pending = [finished_prediction(member), finished_prediction(other_member)]
    decided = finished_prediction(member, review_state=ReviewState.REJECTED)
    failed = finished_prediction(member, status=Status.FAILED)

    approved = reviews.review_approve_many([p.pk for p in (*pending, decided, failed)] + [999_999], by=reviewer)

    assert approved == sorted(p.pk for p in pending)
    assert set(Prediction.objects.filter(review_state=ReviewState.APPROVED).values_list("pk", flat=True)) == set(
        approved
    )
    assert AuditEntry.objects.filter(action="prediction.approve").count() == 2


def test_bulk_rejection_writes_one_audit_entry_per_prediction_with_the_same_reason(member, reviewer):
    predictions = [finished_prediction(member) for _ in range(3)]

    rejected = reviews.review_reject_many([p.pk for p in predictions], by=reviewer, reason="Off brand")

    assert len(rejected) == 3
    entries = AuditEntry.objects.filter(action="prediction.reject")
    assert sorted(int(e.target_id) for e in entries) == sorted(p.pk for p in predictions)
    assert {e.after["review_reason"] for e in entries} == {"Off brand"}
    assert {e.actor_id for e in entries} == {reviewer.pk}


@pytest.mark.postgresql  # row locks; SQLite takes one lock for the whole database
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_at_the_same_moment_cannot_both_win(member, reviewer, admin_user):
    for _round in range(5):
        prediction = finished_prediction(member)
        barrier = threading.Barrier(2)
        results: dict[str, bool] = {}

        def decide(name, action, prediction=prediction, barrier=barrier, results=results):
            try:
                barrier.wait()
                results[name] = action(prediction)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=decide, args=("approve", lambda p: reviews.review_approve(p, by=reviewer))),
            threading.Thread(
                target=decide, args=("reject", lambda p: reviews.review_reject(p, by=admin_user, reason="no"))
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)

        assert sorted(results.values()) == [False, True], results
        prediction.refresh_from_db()
        winner = "approve" if results["approve"] else "reject"
        assert prediction.review_state == {"approve": "approved", "reject": "rejected"}[winner]
        assert AuditEntry.objects.filter(target_id=str(prediction.pk)).count() == 1


# --- Reasons ------------------------------------------------------------------------


def test_a_listed_reason_can_carry_details_and_other_needs_them():
    assert reviews.reject_reason("quality") == "Poor quality or visible defects"
    assert reviews.reject_reason("prompt", "  the deer  has   no antlers ") == (
        "Does not match the prompt — the deer has no antlers"
    )
    assert reviews.reject_reason("other", "Watermark in the corner") == "Watermark in the corner"
    with pytest.raises(reviews.ReviewError):
        reviews.reject_reason("other", "")
    with pytest.raises(reviews.ReviewError):
        reviews.reject_reason("bogus", "x")
    with pytest.raises(reviews.ReviewError):
        reviews.reject_reason("other", "x" * 501)


def test_a_stored_reason_is_shown_with_its_details_and_free_text_as_written():
    assert reviews.reason_display("Does not match the prompt — no antlers") == "Does not match the prompt — no antlers"
    assert reviews.reason_display("Watermark") == "Watermark"


# --- Automatic approval ---------------------------------------------------------------


def test_a_member_set_to_auto_approve_has_a_finished_prediction_approved_automatically(member):
    MemberQuota.objects.create(user=member, auto_approve=True)
    prediction = finished_prediction(member)

    reviews.prediction_auto_review(prediction)

    prediction.refresh_from_db()
    assert prediction.review_state == ReviewState.APPROVED
    assert prediction.reviewed_by is None
    [entry] = audit_of(prediction, "prediction.approve")
    assert entry.actor is None
    assert entry.after["automatic"] is True
    assert "automatically" in entry.summary and "member" in entry.summary


def test_a_model_set_to_auto_approve_has_its_predictions_approved_automatically(member):
    ModelConfig.objects.create(model_id=PRO, auto_approve=True)
    pro = finished_prediction(member, model_id=PRO)
    schnell = finished_prediction(member, model_id=SCHNELL)

    reviews.prediction_auto_review(pro)
    reviews.prediction_auto_review(schnell)

    pro.refresh_from_db()
    schnell.refresh_from_db()
    assert pro.review_state == ReviewState.APPROVED
    assert schnell.review_state == ReviewState.PENDING
    [entry] = audit_of(pro, "prediction.approve")
    assert PRO in entry.summary


def test_without_auto_approve_a_finished_prediction_waits_for_a_reviewer(member):
    MemberQuota.objects.create(user=member, auto_approve=False)
    prediction = finished_prediction(member)
    reviews.prediction_auto_review(prediction)
    prediction.refresh_from_db()
    assert prediction.review_state == ReviewState.PENDING
    assert not AuditEntry.objects.exists()


def test_auto_approval_happens_in_the_transition_that_makes_a_prediction_succeed(member):
    MemberQuota.objects.create(user=member, auto_approve=True)
    prediction = finished_prediction(member, status=Status.STORING)

    assert services.prediction_transition(prediction.pk, Status.STORING, Status.SUCCEEDED)

    prediction.refresh_from_db()
    assert (prediction.status, prediction.review_state) == (Status.SUCCEEDED, ReviewState.APPROVED)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_worker_approves_an_auto_approved_members_prediction_when_it_succeeds(worker, simulator, member):
    MemberQuota.objects.create(user=member, auto_approve=True)
    prediction = submit(member, prompt="a deer at dusk")

    prediction = wait_for(prediction, Status.SUCCEEDED)

    assert prediction.review_state == ReviewState.APPROVED
    [entry] = audit_of(prediction, "prediction.approve")
    assert entry.actor is None


# --- Privacy --------------------------------------------------------------------------


def test_making_a_prediction_private_is_recorded_and_repeating_it_changes_nothing(member):
    prediction = finished_prediction(member)

    assert reviews.prediction_set_private(prediction, True, by=member)
    assert not reviews.prediction_set_private(prediction, True, by=member)

    prediction.refresh_from_db()
    assert prediction.is_private
    [entry] = audit_of(prediction, "prediction.private")
    assert (entry.before, entry.after) == ({"is_private": False}, {"is_private": True})
    assert reviews.prediction_set_private(prediction, False, by=member)
    assert len(audit_of(prediction, "prediction.public")) == 1


# --- Deleting stored files ------------------------------------------------------------


def test_deleting_the_files_of_a_rejected_prediction_empties_storage_and_keeps_the_record(
    member, reviewer, admin_user, django_capture_on_commit_callbacks
):
    prediction = finished_prediction(member, outputs=2)
    reviews.review_reject(prediction, by=reviewer, reason="no")
    names = [n for o in prediction.outputs.all() for n in (o.file.name, o.thumbnail.name)]
    assert all(default_storage.exists(name) for name in names)

    with django_capture_on_commit_callbacks(execute=True):
        assert reviews.prediction_files_delete(prediction, by=admin_user)

    assert not any(default_storage.exists(name) for name in names)
    prediction.refresh_from_db()
    assert prediction.files_deleted_at is not None
    assert prediction.review_state == ReviewState.REJECTED
    assert not PredictionOutput.objects.filter(prediction=prediction).exists()
    [entry] = audit_of(prediction, "prediction.delete_files")
    assert entry.actor == admin_user
    assert len(entry.before["files"]) == 2 and "sha256:" in entry.before["files"][0]
    assert entry.after["files_deleted_at"]


def test_files_leave_storage_only_if_the_deletion_commits(
    member, reviewer, admin_user, django_capture_on_commit_callbacks
):
    prediction = finished_prediction(member)
    reviews.review_reject(prediction, by=reviewer, reason="no")
    name = prediction.outputs.get().file.name

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reviews.prediction_files_delete(prediction, by=admin_user)

    assert len(callbacks) == 1
    assert default_storage.exists(name), "nothing is removed before the commit"


@pytest.mark.parametrize("state", [ReviewState.PENDING, ReviewState.APPROVED])
def test_only_a_rejected_predictions_files_can_be_deleted(member, admin_user, state):
    prediction = finished_prediction(member, review_state=state)
    assert not reviews.prediction_files_delete(prediction, by=admin_user)
    assert prediction.outputs.exists()
    assert not AuditEntry.objects.exists()


def test_files_are_deleted_once(member, reviewer, admin_user):
    prediction = finished_prediction(member)
    reviews.review_reject(prediction, by=reviewer, reason="no")
    assert reviews.prediction_files_delete(prediction, by=admin_user)
    assert not reviews.prediction_files_delete(prediction, by=admin_user)
    assert len(audit_of(prediction, "prediction.delete_files")) == 1
