"""The text of each kind of notification, made when it is read, in the reader's language
(moments too: a parameter in MOMENTS is kept as ISO 8601 and shown in the reader's format)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
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


# Parameters that are moments: "July 1, 2025, midnight UTC" in English.
MOMENTS = ("resets",)


def moment_text(value: str) -> str:
    """An ISO 8601 moment in the current language's format, with its time zone; other text as it is."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname() or ''}".strip()


def notification_text(kind: str, params: Mapping[str, Any]) -> str:
    """A notification's text; the kind itself for a kind this DeerWeb does not know (left by an older one)."""
    text = FORMATS.get(kind)
    if text is None:
        return kind
    values = {key: moment_text(value) if key in MOMENTS else value for key, value in params.items()}
    try:
        return str(text) % values
    except (KeyError, TypeError, ValueError):
        return kind
