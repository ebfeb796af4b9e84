"""The review queue (reviewers and admins) and an admin's deletion of a rejected prediction's files."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from common import permissions, rows
from common.paging import keyset_context
from common.permissions import AuthedHttpRequest
from common.requests import safe_next, wants_json
from predictions import cards, selectors, uploads
from reviews import selectors as reviews_selectors
from reviews import services as reviews
from reviews.forms import DecisionForm, GalleryFilterForm, QueueFilterForm, reason_choices

QUEUE_PAGE_SIZE = 24


@permissions.role_required(permissions.is_reviewer)
@require_GET
def review_queue(request: AuthedHttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    queue = reviews_selectors.review_queue(**form.filters())
    page = keyset_context(request, queue, size=QUEUE_PAGE_SIZE)
    predictions = page.pop("rows")
    context = {
        "form": form,
        "predictions": predictions,
        # A card stays the same until it leaves the queue: rendered once (common/rows.py).
        "cards": rows.rows_rendered("review/_card.html", predictions, name="prediction", key=cards.card_key),
        "waiting": queue.count(),
        "reasons": reason_choices(),
        **page,
    }
    return render(request, "review/queue.html", context, status=200 if valid else 400)


@permissions.role_required(permissions.is_reviewer)
@require_POST
def review_decide(request: AuthedHttpRequest) -> HttpResponse:
    """Approve or reject; JSON for the queue's script, a redirect back without it."""
    json_wanted = wants_json(request)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        message = " ".join(str(error) for errors in form.errors.values() for error in errors)
        if json_wanted:
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
    if json_wanted:
        return JsonResponse({"decided": decided, "skipped": skipped, "message": text})
    (messages.success if decided else messages.warning)(request, text)
    return _back(request)


@permissions.role_required(permissions.is_admin)
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
    return HttpResponseRedirect(safe_next(request, reverse("review:queue")))


GALLERY_PAGE_SIZE = 30


@login_required
@require_GET
def gallery(request: AuthedHttpRequest) -> HttpResponse:
    form = GalleryFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    page = keyset_context(request, reviews_selectors.gallery(**form.filters()), size=GALLERY_PAGE_SIZE)
    predictions = page.pop("rows")
    # Each card links back here through "Add to a collection": the page's address is in its key.
    shown = rows.rows_rendered(
        "gallery/_card.html",
        predictions,
        name="prediction",
        key=cards.card_key,
        context={"next": request.get_full_path()},
    )
    context = {"form": form, "predictions": predictions, "cards": shown, **page}
    return render(request, "gallery/list.html", context, status=200 if valid else 400)


@login_required
@require_GET
def gallery_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    prediction = reviews_selectors.gallery_get(pk)
    context = {
        "prediction": prediction,
        "outputs": list(prediction.outputs.all()),
        "inputs": uploads.inputs_shown(prediction),
    }
    return render(request, "gallery/detail.html", context)


@login_required
@require_POST
def prediction_private(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The owner keeps a prediction out of the gallery, or lets it in, before or after review."""
    prediction = selectors.prediction_get(request.user, pk)
    if prediction.owner_id != request.user.pk:
        raise Http404
    private = request.POST.get("private") == "1"
    if reviews.prediction_set_private(prediction, private, by=request.user):
        messages.success(
            request,
            _("This prediction is private: it never appears in the team gallery.")
            if private
            else _("This prediction may appear in the team gallery once approved."),
        )
    return redirect(prediction)
