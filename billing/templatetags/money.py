"""`{{ amount|usd }}`: a Decimal amount as `$1.50` / `$0.003` (see quotas.format_usd);
`{{ entry.kind|ledger_kind }}`: a ledger entry's kind, in words."""

from decimal import Decimal

from django import template

from billing.models import LedgerKind
from billing.services import format_usd

register = template.Library()


@register.filter
def usd(amount: Decimal | None) -> str:
    return format_usd(amount)


@register.filter
def ledger_kind(kind: str) -> str:
    """A ledger entry's kind as its label: `entry.get_kind_display` rebuilds the choices each call."""
    try:
        return str(LedgerKind(kind).label)
    except ValueError:
        return kind
