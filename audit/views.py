"""The audit log, for admins: read and filter, never edit."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit import selectors as audit_selectors
from audit.forms import KNOWN_ACTIONS, AuditFilterForm
from common import permissions
from common.paging import keyset_context
from common.permissions import AuthedHttpRequest

PAGE_SIZE = 50


@permissions.role_required(permissions.is_admin)
@require_GET
def audit_log(request: AuthedHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    page = keyset_context(request, audit_selectors.audit_entries(**form.filters()), size=PAGE_SIZE)
    context = {"form": form, "entries": page.pop("rows"), "known_actions": KNOWN_ACTIONS, **page}
    return render(request, "audit/list.html", context, status=200 if valid else 400)
