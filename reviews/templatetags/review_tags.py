from __future__ import annotations

from typing import TYPE_CHECKING

from django import template

from reviews import services as reviews
from reviews.forms import reason_choices

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

register = template.Library()


@register.filter
def review_reason(reason: str) -> str:
    """A stored rejection reason in the reader's language (listed reasons are translated)."""
    return reviews.reason_display(reason or "")


@register.simple_tag
def reject_reasons() -> list[tuple[str, StrOrPromise]]:
    """The short list of rejection reasons, with "other", for a reason menu."""
    return reason_choices()
