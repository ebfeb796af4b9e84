"""The review queue (reviewers and admins) and an admin's deletion of a rejected prediction's files."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from . import reviews, roles, selectors
from .paging import keyset_context
from .review_forms import DecisionForm, QueueFilterForm, reason_choices
from .roles import AuthedHttpRequest

PAGE_SIZE = 24


@roles.role_required(roles.is_reviewer)
@require_GET
def review_queue(request: AuthedHttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    queue = selectors.review_queue(**form.filters())
    page = keyset_context(request, queue, size=PAGE_SIZE)
    context = {
        "form": form,
        "predictions": page.pop("rows"),
        "waiting": queue.count(),
        "reasons": reason_choices(),
        **page,
    }
    return render(request, "review/queue.html", context, status=200 if valid else 400)


@roles.role_required(roles.is_reviewer)
@require_POST
def review_decide(request: AuthedHttpRequest) -> HttpResponse:
    """Approve or reject; JSON for the queue's script, a redirect back without it."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        message = " ".join(str(error) for errors in form.errors.values() for error in errors)
        if wants_json:
            return JsonResponse({"error": message}, status=400)
        messages.error(request, message)
        return _back(request)
    ids = form.cleaned_data["ids"]
    if form.cleaned_data["action"] == "approve":
        decided = reviews.review_approve_many(ids, by=request.user)
        done = ngettext("Approved %(n)d prediction.", "Approved %(n)d predictions.", len(decided))
    else:
        decided = reviews.review_reject_many(ids, by=request.user, reason=form.cleaned_data["reason_text"])
        done = ngettext("Rejected %(n)d prediction.", "Rejected %(n)d predictions.", len(decided))
    skipped = [pk for pk in ids if pk not in set(decided)]
    text = done % {"n": len(decided)} if decided else ""
    if skipped:
        text = (
            text
            + " "
            + ngettext(
                "%(n)d was already reviewed or cannot be reviewed.",
                "%(n)d were already reviewed or cannot be reviewed.",
                len(skipped),
            )
            % {"n": len(skipped)}
        ).strip()
    if wants_json:
        return JsonResponse({"decided": decided, "skipped": skipped, "message": text})
    (messages.success if decided else messages.warning)(request, text)
    return _back(request)


@roles.role_required(roles.is_admin)
@require_POST
def prediction_files_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    prediction = selectors.prediction_get(request.user, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that the files should be deleted."))
    elif reviews.prediction_files_delete(prediction, by=request.user):
        messages.success(request, _("The stored files were deleted. The prediction and its audit trail stay."))
    else:
        messages.warning(request, _("Only the files of a rejected prediction can be deleted, once."))
    return redirect(prediction)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("review:queue")
    return HttpResponseRedirect(target)
