"""`{{ value|time_tag }}`: a moment as `<time datetime="…">2025-06-20 12:00</time>` in local time.

The same as `<time datetime="{{ value|date:'c' }}">{{ value|date:"Y-m-d H:i" }}</time>` for a
fraction of its cost: lists show one per row, and Django's date filter formats character by
character (twice per row, a few milliseconds per page of 50 rows).
"""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def time_tag(value: datetime | None) -> SafeString | str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), local.strftime("%Y-%m-%d %H:%M"))
