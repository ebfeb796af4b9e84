"""`{{ amount|usd }}`: a Decimal amount as `$1.50` / `$0.003` (see quotas.format_usd);
`{{ entry.kind|ledger_kind }}`: a ledger entry's kind, in words; `{% forecast f %}`: where a
period's spending is heading (billing.selectors.Forecast), in a sentence."""

from decimal import Decimal

from django import template
from django.utils.formats import date_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from billing.models import LedgerKind
from billing.selectors import Forecast
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


@register.simple_tag
def forecast(forecast: Forecast | None) -> SafeString:
    """The forecast's sentence: written here rather than in an included template, since the team's
    usage page shows one per member."""
    if not forecast:
        return mark_safe("")  # noqa: S308 - empty
    if forecast.projected is None:
        return format_html(
            '<span class="forecast forecast-early">{}</span>', gettext("Too early to forecast this period.")
        )
    values = {
        "amount": conditional_escape(format_usd(forecast.projected)),
        "day": conditional_escape(date_format(forecast.last_day, "MONTH_DAY_FORMAT")),
        "budget": conditional_escape(format_usd(forecast.budget)),
    }
    if forecast.budget is None:
        text = gettext("At this pace: <strong>%(amount)s</strong> by %(day)s.")
    elif forecast.over:
        text = gettext("At this pace: <strong>%(amount)s</strong> by %(day)s, over the %(budget)s budget.")
    else:
        text = gettext("At this pace: <strong>%(amount)s</strong> by %(day)s, within the %(budget)s budget.")
    classes = "forecast forecast-over" if forecast.over else "forecast"
    # The sentence is the catalogue's (with its <strong>); the values in it are escaped.
    return format_html('<span class="{}" data-forecast>{}</span>', classes, mark_safe(text % values))  # noqa: S308
