"""`{% prediction_result_list cl %}`: Django admin's `{% result_list %}` for the predictions' list,
its rows from `predictions.admin.changelist_rows`; `{% prediction_list_filters cl %}`: its filter
column, from `predictions.admin.changelist_filters` (templates/admin/predictions/prediction/change_list.html)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_hidden_fields
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList
from django.utils.safestring import SafeString

register = template.Library()


def prediction_result_list(cl: ChangeList) -> dict[str, Any]:
    """What Django's `result_list` gives its template, each row a single item: its cells' HTML."""
    from predictions.admin import changelist_rows

    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": [[row] for row in changelist_rows(cl)],
    }


@register.tag(name="prediction_result_list")
def prediction_result_list_tag(parser: template.base.Parser, token: template.base.Token) -> InclusionAdminNode:
    # django-stubs give the node a `name` first; Django 5.2's takes (parser, token, func, …).
    return InclusionAdminNode(  # type: ignore[call-arg]
        parser,  # type: ignore[arg-type]
        token,  # type: ignore[arg-type]
        func=prediction_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )


@register.simple_tag
def prediction_list_filters(cl: ChangeList) -> SafeString:
    """Every filter of the list, as Django's `{% admin_list_filter cl spec %}` for each renders them."""
    from predictions.admin import changelist_filters

    return changelist_filters(cl)
