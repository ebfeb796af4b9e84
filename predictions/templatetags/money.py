"""`{{ amount|usd }}`: a Decimal amount as `$1.50` / `$0.003` (see quotas.format_usd)."""

from decimal import Decimal

from django import template

from predictions.quotas import format_usd

register = template.Library()


@register.filter
def usd(amount: Decimal | None) -> str:
    return format_usd(amount)
