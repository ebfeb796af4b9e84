"""The text of each kind of notification, made when it is read, in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

BUDGET_MEMBER = "budget.member"
BUDGET_TEAM = "budget.team"

FORMATS: dict[str, Promise] = {
    BUDGET_MEMBER: _(
        "Your spending reached %(threshold)s%% of your budget: %(spent)s of %(budget)s committed this period "
        "(running and finished predictions). It starts again on %(resets)s."
    ),
    BUDGET_TEAM: _(
        "The team's spending reached %(threshold)s%% of its monthly budget: %(spent)s of %(budget)s committed "
        "this month (running and finished predictions). It starts again on %(resets)s."
    ),
}


def notification_text(kind: str, params: Mapping[str, Any]) -> str:
    """A notification's text; the kind itself for a kind this DeerWeb does not know (left by an older one)."""
    text = FORMATS.get(kind)
    if text is None:
        return kind
    try:
        return str(text) % params
    except (KeyError, TypeError, ValueError):
        return kind
