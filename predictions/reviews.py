"""Review of generations: approve, reject, and automatic approval."""

from __future__ import annotations


def prediction_auto_review(prediction_id: int) -> None:
    """Approve a just-succeeded prediction when its member or model is set to auto-approve
    (comes with roles and review)."""
