from django import template

from .. import reviews
from ..review_forms import reason_choices

register = template.Library()


@register.filter
def review_reason(reason: str) -> str:
    """A stored rejection reason in the reader's language (listed reasons are translated)."""
    return reviews.reason_display(reason or "")


@register.simple_tag
def reject_reasons() -> list[tuple[str, str]]:
    """The short list of rejection reasons, with "other", for a reason menu."""
    return reason_choices()
