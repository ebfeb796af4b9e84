"""Thin views: access check, form, service call, response."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import catalog, selectors, services
from .forms import PredictionForm
from .models import PredictionOutput

DEFAULT_MODEL = "black-forest-labs/flux-schnell"
PAGE_SIZE = 25


@login_required
@require_GET
def prediction_list(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(selectors.prediction_history(request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "predictions/list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def prediction_new(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    spec = catalog.get_model(data.get("model", DEFAULT_MODEL)) or catalog.get_model(DEFAULT_MODEL)
    unknown_model = "model" in data and catalog.get_model(data["model"]) is None

    if request.method == "POST" and "switch" not in request.POST and not unknown_model:
        form = PredictionForm(request.POST, spec=spec)
        if form.is_valid():
            try:
                prediction = services.prediction_create(
                    owner=request.user, model_id=spec.id, input=form.input_data()
                )
            except services.PredictionInputError as exc:
                for name, message in exc.errors.items():
                    form.add_error(name if name in form.fields else None, message)
            else:
                return redirect(prediction)
    else:
        # A first visit, or a switch of model: keep what was typed, nothing else.
        initial = {"model": spec.id, "prompt": data.get("prompt", "")}
        form = PredictionForm(initial=initial, spec=spec)
    context = {"form": form, "spec": spec}
    if unknown_model:
        context["model_error"] = _("Unknown model “%(id)s”; pick one from the list.") % {"id": data["model"]}
    invalid = request.method == "POST" and "switch" not in request.POST
    return render(request, "predictions/new.html", context, status=400 if invalid else 200)


@login_required
@require_GET
def prediction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    prediction = selectors.prediction_get(request.user, pk)
    return render(
        request,
        "predictions/detail.html",
        {"prediction": prediction, "outputs": list(prediction.outputs.all())},
    )


@login_required
@require_GET
def prediction_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the detail page, fetched again while it runs."""
    prediction = selectors.prediction_get(request.user, pk)
    response = render(
        request,
        "predictions/_live.html",
        {"prediction": prediction, "outputs": list(prediction.outputs.all())},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def prediction_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    prediction = selectors.prediction_get(request.user, pk)
    if prediction.owner_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    if services.prediction_cancel(prediction):
        messages.info(request, _("Cancellation requested."))
    else:
        messages.warning(request, _("This prediction can no longer be canceled."))
    return redirect(prediction)


def _serve(output: PredictionOutput, field: str, *, download: bool) -> FileResponse:
    stored = getattr(output, field)
    if not stored:
        raise Http404
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    content_type = output.content_type if field == "file" else "image/webp"
    ext = output.extension if field == "file" else "webp"
    name = f"deerweb-{output.prediction_id}-{output.index + 1}.{ext}"
    response = FileResponse(handle, content_type=content_type, as_attachment=download, filename=name)
    # Our content type, never the provider's; and nothing in the file may run.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_GET
def output_file(request: HttpRequest, pk: int, index: int) -> FileResponse:
    output = selectors.output_get(request.user, pk, index)
    return _serve(output, "file", download="download" in request.GET)


@login_required
@require_GET
def output_thumbnail(request: HttpRequest, pk: int, index: int) -> FileResponse:
    output = selectors.output_get(request.user, pk, index)
    if not output.thumbnail:
        return _serve(output, "file", download=False)
    return _serve(output, "thumbnail", download=False)
