"""The audit log, for admins: read and filter, never edit."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import roles, selectors
from .review_forms import KNOWN_ACTIONS, AuditFilterForm, id_param

PAGE_SIZE = 50


@roles.role_required(roles.is_admin)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    rows, next_after = selectors.keyset_page(
        selectors.audit_entries(**form.filters()), after=id_param(request.GET.get("after")), size=PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "form": form,
        "entries": rows,
        "next_after": next_after,
        "paged": "after" in request.GET,
        "filter_query": query.urlencode(),
        "known_actions": KNOWN_ACTIONS,
    }
    return render(request, "audit/list.html", context, status=200 if valid else 400)
