"""Thin views: access check, form, service call, response."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import services as billing
from catalog import selectors as catalog_selectors
from catalog import specs as catalog
from catalog.inputs import ModelSpec
from common import rows
from common.paging import id_param
from common.permissions import AuthedHttpRequest
from common.requests import wants_json
from predictions import (
    archive,
    cards,
    files,
    hints,
    pipeline,
    playground,
    prompts,
    replicate,
    selectors,
    services,
    serving,
    uploads,
)
from predictions.forms import (
    CompareForm,
    HistoryFilterForm,
    PredictionForm,
    PromptRenameForm,
    PromptSaveForm,
    initial_from_input,
)
from predictions.models import InputImage, Prediction, Prompt, User

DEFAULT_MODEL = "black-forest-labs/flux-schnell"
PAGE_SIZE = 25
GRID_PAGE_SIZE = 48


# --- History --------------------------------------------------------------------------------


@login_required
@require_GET
def prediction_list(request: AuthedHttpRequest) -> HttpResponse:
    """The member's history: filters, list or grid, all in the query string; keyset pages."""
    models = catalog_selectors.models_enabled()
    form = HistoryFilterForm(request.GET, models=models)
    valid = form.is_valid()
    grid = form.layout == "grid"
    page = selectors.history_page(
        selectors.prediction_history(request.user, **form.filters()),
        after=id_param(request.GET.get("after")),
        before=id_param(request.GET.get("before")),
        size=GRID_PAGE_SIZE if grid else PAGE_SIZE,
    )
    context = {
        "form": form,
        "page": page,
        "grid": grid,
        "rows": rows.rows_rendered(
            "predictions/_history_tiles.html" if grid else "predictions/_history_row.html",
            page.rows,
            name="prediction",
            key=_history_row_key,
        ),
        "filtered": any(request.GET.get(name) for name in ("q", "status", "model", "from", "to")),
    }
    return render(request, "predictions/list.html", context, status=200 if valid else 400)


def _history_row_key(prediction: Prediction) -> tuple[object, ...]:
    """What a prediction's row or tiles show that can still change (common/rows.py): a running
    one's row changes with its status only, which is in the key. The outputs' thumbnails and sizes
    are in it: a thumbnail may come later. The prompt and creation time make it the same
    prediction, even where ids are reused (SQLite)."""
    outputs = tuple(cards.output_key(output) for output in prediction.outputs.all())
    return (
        prediction.pk,
        prediction.prompt_id,
        prediction.created_at,
        prediction.status,
        prediction.via_token,
        prediction.files_deleted_at,
        outputs,
    )


# --- The form -------------------------------------------------------------------------------


def _own_prompt(user: User, pk: int | None) -> Prompt | None:
    return Prompt.objects.filter(owner=user, pk=pk).first() if pk else None


def _model_or_default(models: list[ModelSpec], model_id: str | None) -> ModelSpec | None:
    by_id = {spec.id: spec for spec in models}
    if model_id:
        return by_id.get(model_id)
    return by_id.get(DEFAULT_MODEL) or (models[0] if models else None)


@login_required
@require_http_methods(["GET", "POST"])
def prediction_new(request: AuthedHttpRequest) -> HttpResponse:
    """The playground: the form for a chosen model beside this session's results. GET takes
    `model`, `prompt` (text or a library id via `prompt_id`), and `from` ("Edit and run", "Use
    these inputs": a prediction to start from). A POST from playground.js gets JSON (see
    predictions/playground.py); a plain one is redirected to the new prediction."""
    models = catalog_selectors.models_enabled()
    data = request.POST if request.method == "POST" else request.GET
    source = None
    if request.method == "GET" and (source_id := id_param(data.get("from"))):
        source = selectors.prediction_get(request.user, source_id)
    wanted = data.get("model") or (source.model_id if source else None)
    spec = _model_or_default(models, wanted)
    model_error = ""
    if spec is None:
        model_error = _("Unknown model “%(id)s”; pick one from the list.") % {"id": wanted}
        spec = _model_or_default(models, None)
    if spec is None:
        return render(request, "predictions/no_models.html", status=503)
    context: dict[str, Any] = {"spec": spec, "model_error": model_error}
    fetched = request.method == "POST" and wants_json(request)
    if fetched and model_error:
        return playground.errors_response({"model": [model_error]})

    if request.method == "POST" and "switch" not in request.POST and not model_error:
        form = PredictionForm(request.POST, request.FILES, spec=spec, models=models)
        if form.is_valid():
            prediction = _create_from_form(request, form)
            if prediction is not None:
                playground.result_remember(request.session, prediction.pk)
                if fetched:
                    return playground.submitted_response(request, prediction, form)
                return redirect(prediction)
        if fetched:
            return playground.errors_response(playground.form_errors(form))
        return _playground(request, form, models, context, status=400)

    form = _start_form(request, spec, models, source)
    context["source"] = source
    return _playground(request, form, models, context, status=400 if model_error else 200)


def _playground(
    request: AuthedHttpRequest, form: PredictionForm, models: list[ModelSpec], context: dict[str, Any], *, status: int
) -> HttpResponse:
    """The form beside this session's results, with what a run of it will cost."""
    context.update(
        form=form,
        run=playground.form_run_cost(form),
        results=playground.results(request.user, request.session, models),
    )
    return render(request, "predictions/new.html", context, status=status)


def _start_form(
    request: AuthedHttpRequest, spec: ModelSpec, models: list[ModelSpec], source: Prediction | None
) -> PredictionForm:
    """The unbound form: blank, from a library prompt, from a prediction ("Edit and run", with
    DeerAPI's messages on the fields it refused), or after the no-JS model switch."""
    data = request.POST if request.method == "POST" else request.GET
    initial: dict[str, Any] = {"model": spec.id, "prompt": data.get("prompt", "")}
    if request.method == "POST":
        # The no-JS model switch: keep the prompt (and where it came from), nothing else.
        initial.update(prompt_id=id_param(data.get("prompt_id")), source=id_param(data.get("source")))
    elif source is not None:
        if spec.id == source.model_id:
            values = initial_from_input(spec, source.input)
            initial.update(uploads.input_values_for_form(source, values, site_url=_site_url(request)))
        initial.update(prompt=source.prompt.text, source=source.pk)
        if source.prompt.owner_id == request.user.pk:
            initial["prompt_id"] = source.prompt_id
    elif library := _own_prompt(request.user, id_param(data.get("prompt_id"))):
        initial.update(prompt=library.text, prompt_id=library.pk)
    form = PredictionForm(initial=initial, spec=spec, models=models)
    if source is not None and spec.id == source.model_id and source.metrics.get("invalid_fields"):
        form.add_input_errors(source.metrics["invalid_fields"])
    return form


def _site_url(request: HttpRequest) -> str:
    """Where members reach DeerWeb: PUBLIC_URL, or the address of this request."""
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def _create_from_form(request: AuthedHttpRequest, form: PredictionForm) -> Prediction | None:
    """Store uploads (and copies of reused ones) and create the prediction; on refusal, put the
    reasons on the form."""
    source_id = form.cleaned_data.get("source")
    source = selectors.prediction_get(request.user, source_id) if source_id else None
    prompt = _own_prompt(request.user, form.cleaned_data.get("prompt_id"))
    stored: list[InputImage] = []
    try:
        with transaction.atomic():
            data, stored = uploads.input_values_store(
                request.user, form.input_data(), hosts=frozenset({request.get_host()})
            )
            prediction = services.prediction_create(
                owner=request.user, model_id=form.spec.id, input=data, prompt=prompt, source=source, spec=form.spec
            )
            uploads.input_images_link(prediction, stored)
            return prediction
    except (services.PredictionInputError, uploads.InputImageUnavailable) as exc:
        form.add_input_errors(exc.errors)
    except billing.QuotaExceeded as exc:
        form.add_error(None, exc.message)  # over a limit: said above the form, not at one field
    uploads.input_images_discard(stored)
    return None


@login_required
@require_GET
def prediction_new_fields(request: AuthedHttpRequest) -> HttpResponse:
    """The chosen model's part of the form, swapped in by app.js when the model changes."""
    spec = catalog_selectors.model_get(request.GET.get("model", ""))
    if spec is None:
        return HttpResponse(_("This model is not available."), status=404, content_type="text/plain")
    form = PredictionForm(initial={"model": spec.id}, spec=spec, models=[spec])
    response = render(request, "predictions/_model_fields.html", {"form": form, "spec": spec})
    response["Cache-Control"] = "private, max-age=60"
    return response


@login_required
@require_GET
def prediction_new_cost(request: AuthedHttpRequest) -> HttpResponse:
    """What a run of the chosen model and `num_outputs` will cost, and what is left of the
    member's budget: the form's preview, swapped in by playground.js as they change."""
    spec = catalog_selectors.model_get(request.GET.get("model", ""))
    if spec is None:
        return HttpResponse(_("This model is not available."), status=404, content_type="text/plain")
    run = playground.run_cost(spec, request.GET.get("num_outputs"))
    response = HttpResponse(playground.cost_html(request, run))
    response["Cache-Control"] = "no-store"
    return response


# --- One prediction ----------------------------------------------------------------------------

# Sections the apps above add to a prediction's page (webhooks: its deliveries). A panel is
# called with the request and the prediction and returns (template name, context) or None
# (nothing to show); it must cost a fixed number of queries. Filled by AppConfig.ready().
DetailPanel = Callable[[AuthedHttpRequest, Prediction], "tuple[str, dict[str, Any]] | None"]
_detail_panels: list[DetailPanel] = []


def detail_panels_register(panel: DetailPanel) -> None:
    """Add a section to the prediction page, below its live part (each app's AppConfig.ready())."""
    if panel not in _detail_panels:
        _detail_panels.append(panel)


@login_required
@require_GET
def prediction_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    prediction = selectors.prediction_get(request.user, pk)
    spec = catalog_selectors.model_get(prediction.model_id) or catalog.get_model(prediction.model_id)
    own_prompt = prediction.prompt.owner_id == request.user.pk
    context = {
        "prediction": prediction,
        "outputs": list(prediction.outputs.all()),
        "model_name": spec.name if spec else prediction.model_id,
        "inputs": uploads.inputs_shown(prediction),
        "in_library": own_prompt and bool(prediction.prompt.name),
        "save_form": PromptSaveForm(initial={"prediction": prediction.pk}),
        "panels": [shown for panel in _detail_panels if (shown := panel(request, prediction)) is not None],
    }
    return render(request, "predictions/detail.html", context)


@login_required
@require_GET
def prediction_live(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The live part of the detail page (or, with `view=card`, of a playground result), fetched
    again while it runs."""
    prediction = selectors.prediction_get(request.user, pk)
    card = request.GET.get("view") == "card"
    response = render(
        request,
        "predictions/_result_live.html" if card else "predictions/_live.html",
        {"prediction": prediction, "outputs": list(prediction.outputs.all())},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def prediction_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    prediction = selectors.prediction_get(request.user, pk)
    if prediction.owner_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    if services.prediction_cancel(prediction):
        messages.info(request, _("Cancellation requested."))
    else:
        messages.warning(request, _("This prediction can no longer be canceled."))
    return redirect(prediction)


@login_required
@require_POST
def prediction_rerun(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """ "Run again": the same inputs as a new prediction of the member's own."""
    source = selectors.prediction_get(request.user, pk)
    try:
        prediction = services.prediction_rerun(owner=request.user, source=source)
    except (services.PredictionInputError, billing.QuotaExceeded) as exc:
        reasons = exc.errors.values() if isinstance(exc, services.PredictionInputError) else [exc.message]
        messages.error(request, _("Could not run it again: %(reason)s") % {"reason": " ".join(reasons)})
        if isinstance(exc, services.PredictionInputError):
            # The model's schema changed: the form shows what to fix.
            return redirect(reverse("predictions:new") + "?" + urlencode({"from": source.pk}))
        return redirect(source)
    messages.success(request, _("Running it again."))
    return redirect(prediction)


# --- Compare ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def compare_new(request: AuthedHttpRequest) -> HttpResponse:
    """One prompt on 2–4 models at once."""
    models = catalog_selectors.models_enabled()
    if request.method == "POST":
        form = CompareForm(request.POST, models=models)
        if form.is_valid():
            try:
                group = services.predictions_compare(
                    owner=request.user,
                    prompt_text=form.cleaned_data["prompt"],
                    model_ids=form.cleaned_data["models"],
                    prompt=_own_prompt(request.user, form.cleaned_data.get("prompt_id")),
                )
            except services.PredictionInputError as exc:
                for name, message in exc.errors.items():
                    form.add_error(name if name in ("prompt", "models") else None, message)
            except billing.QuotaExceeded as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("predictions:compare_detail", group=group)
        return render(request, "predictions/compare_new.html", {"form": form}, status=400)
    initial: dict[str, Any] = {"prompt": request.GET.get("prompt", "")}
    if library := _own_prompt(request.user, id_param(request.GET.get("prompt_id"))):
        initial.update(prompt=library.text, prompt_id=library.pk)
    if chosen := request.GET.getlist("models"):
        initial["models"] = chosen
    return render(request, "predictions/compare_new.html", {"form": CompareForm(initial=initial, models=models)})


@login_required
@require_GET
def compare_detail(request: AuthedHttpRequest, group: uuid.UUID) -> HttpResponse:
    predictions = selectors.compare_group_get(request.user, group)
    names = {spec.id: spec.name for spec in [*catalog.MODELS.values(), *catalog_selectors.models_enabled()]}
    columns = [
        {"prediction": p, "outputs": list(p.outputs.all()), "model_name": names.get(p.model_id, p.model_id)}
        for p in predictions
    ]
    return render(
        request,
        "predictions/compare_detail.html",
        {"columns": columns, "prompt": predictions[0].prompt, "group": group},
    )


# --- Files --------------------------------------------------------------------------------------------


@login_required
@require_GET
def output_file(request: AuthedHttpRequest, pk: int, index: int) -> HttpResponseBase:
    output = selectors.output_get(request.user, pk, index)
    return serving.output_response(output, "file", download="download" in request.GET)


@login_required
@require_GET
def predictions_download(request: AuthedHttpRequest) -> HttpResponseBase:
    """The selected predictions' outputs (`id`: the history list's rows) or the selected outputs
    (`output`: the grid's tiles) in a .zip with metadata.json and metadata.csv, streamed."""
    ids = [pk for value in request.GET.getlist("id") if (pk := id_param(value)) is not None]
    output_ids = [pk for value in request.GET.getlist("output") if (pk := id_param(value)) is not None]
    predictions = selectors.predictions_for_archive(request.user, ids) if ids else []
    if output_ids and not ids:
        predictions = selectors.outputs_for_archive(request.user, output_ids)
    if not predictions:
        messages.error(request, _("Select the predictions to download."))
        return redirect(reverse("predictions:list") + ("?view=grid" if output_ids else ""))
    return archive.archive_response(predictions, filename="deerweb-predictions.zip")


@require_GET
def signed_output_file(request: HttpRequest, signature: str, name: str) -> HttpResponseBase:
    """A stored output at the signed URL the API handed out: no login, until it expires."""
    output = replicate.output_from_signature(signature)
    if output is None:
        raise Http404
    return serving.output_response(output, "file", download=False)


@login_required
@require_GET
def output_thumbnail(request: AuthedHttpRequest, pk: int, index: int) -> HttpResponseBase:
    output = selectors.output_get(request.user, pk, index)
    if not output.thumbnail:
        return serving.output_response(output, "file", download=False)
    return serving.output_response(output, "thumbnail", download=False)


def _serve_input(image: InputImage, *, cache: str) -> HttpResponseBase:
    response = files.stored_file_response(image.file, content_type=image.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = cache
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_GET
def prediction_input_file(request: AuthedHttpRequest, pk: int, image_id: int) -> HttpResponseBase:
    """An uploaded image a prediction was made with, for whoever may see the prediction."""
    return _serve_input(selectors.prediction_input_image(request.user, pk, image_id), cache="private, max-age=3600")


@require_GET
def input_image_file(request: HttpRequest, token: uuid.UUID) -> HttpResponseBase:
    """An uploaded input image, for DeerAPI to fetch: no login, the token is the key, and only
    while DeerAPI may still need it (see selectors.input_image_for_deerapi)."""
    return _serve_input(selectors.input_image_for_deerapi(token), cache="no-store")


@csrf_exempt
@require_POST
def deerapi_hint(request: HttpRequest, token: str) -> HttpResponse:
    """DeerAPI calling back as a prediction ends (predictions.hints): no login, the signed URL is
    the key. The body is not read: the poll this brings forward says what happened."""
    prediction_id = hints.hint_prediction_id(token)
    if prediction_id is None:
        raise Http404
    pipeline.prediction_hint(prediction_id)
    return HttpResponse(status=204)


LIBRARY_PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "POST"])
def prompt_list(request: AuthedHttpRequest) -> HttpResponse:
    """The member's library, and a form to save a new prompt into it."""
    form = PromptSaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            prompt = prompts.prompt_save(
                owner=request.user, name=form.cleaned_data["name"], text=form.cleaned_data["text"].strip()
            )
        except prompts.PromptNameTaken as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, _("Saved “%(name)s” in your prompt library.") % {"name": prompt.name})
            return redirect("prompts:list")
    page = Paginator(selectors.prompt_library(request.user), LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    status = 400 if request.method == "POST" else 200
    return render(request, "prompts/list.html", {"form": form, "page": page}, status=status)


@login_required
@require_POST
def prompt_save_from_prediction(request: AuthedHttpRequest) -> HttpResponse:
    """ "Save prompt" on a prediction's page."""
    form = PromptSaveForm(request.POST)
    prediction_id = id_param(request.POST.get("prediction"))
    prediction = selectors.prediction_get(request.user, prediction_id) if prediction_id else None
    if prediction is None or not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(prediction) if prediction else redirect("prompts:list")
    try:
        prompt = prompts.prompt_save_from_prediction(
            owner=request.user, prediction=prediction, name=form.cleaned_data["name"]
        )
    except prompts.PromptNameTaken as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved “%(name)s” in your prompt library.") % {"name": prompt.name})
    return redirect(prediction)


@login_required
@require_GET
def prompt_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One prompt and the member's predictions that used it, newest first."""
    prompt = selectors.prompt_get(request.user, pk)
    page = selectors.history_page(
        selectors.prediction_history(request.user).filter(prompt=prompt),
        after=id_param(request.GET.get("after")),
        before=id_param(request.GET.get("before")),
        size=PAGE_SIZE,
    )
    context = {"prompt": prompt, "page": page, "rename_form": PromptRenameForm(initial={"name": prompt.name})}
    return render(request, "prompts/detail.html", context)


@login_required
@require_POST
def prompt_rename(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    prompt = selectors.prompt_get(request.user, pk)
    form = PromptRenameForm(request.POST)
    if form.is_valid():
        try:
            prompts.prompt_rename(prompt, form.cleaned_data["name"])
        except prompts.PromptNameTaken as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, _("Renamed to “%(name)s”.") % {"name": prompt.name})
            return redirect("prompts:detail", pk=prompt.pk)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return redirect("prompts:detail", pk=prompt.pk)


@login_required
@require_POST
def prompt_forget(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    prompt = selectors.prompt_get(request.user, pk)
    prompts.prompt_forget(prompt)
    messages.success(request, _("Removed from your prompt library; the predictions that used it keep it."))
    return redirect("prompts:list")
