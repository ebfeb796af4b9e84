"""A member's notifications: the list, newest first, and marking them read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from common.permissions import AuthedHttpRequest
from common.rows import rows_rendered
from notifications import messages, selectors, services
from notifications.models import Notification

PAGE = 50


@login_required
@require_GET
def notifications_list(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_of(request.user.pk), PAGE).get_page(request.GET.get("page"))
    items = [(item, messages.notification_text(item.kind, item.params)) for item in page.object_list]
    shown = rows_rendered("notifications/_row.html", items, name="row", key=_row_key)
    return render(request, "notifications/list.html", {"page": page, "items": items, "rows": shown})


def _row_key(row: tuple[Notification, str]) -> tuple[object, ...]:
    """Everything a notification's row shows: it changes only when it is read."""
    item, text = row
    return (item.pk, item.created_at, item.read_at is None, text, item.url)


@login_required
@require_POST
def notifications_read(request: AuthedHttpRequest) -> HttpResponse:
    """Marks one (`id` in the form) or all of the member's notifications read."""
    raw = request.POST.get("id")
    if raw is None:
        services.notifications_mark_read(request.user.pk)
    elif raw.isdigit():
        services.notifications_mark_read(request.user.pk, int(raw))
    url = reverse("notifications:list")
    page = request.POST.get("page", "")
    return redirect(f"{url}?page={page}" if page.isdigit() and page != "1" else url)
