"""The team gallery: approved, non-private predictions of every member; and the owner's privacy toggle."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import reviews, selectors, uploads
from .paging import keyset_context
from .review_forms import GalleryFilterForm
from .roles import AuthedHttpRequest

PAGE_SIZE = 30


@login_required
@require_GET
def gallery(request: AuthedHttpRequest) -> HttpResponse:
    form = GalleryFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    page = keyset_context(request, selectors.gallery(**form.filters()), size=PAGE_SIZE)
    context = {"form": form, "predictions": page.pop("rows"), **page}
    return render(request, "gallery/list.html", context, status=200 if valid else 400)


@login_required
@require_GET
def gallery_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    prediction = selectors.gallery_get(pk)
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
