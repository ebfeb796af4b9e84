"""The prompt library: list and save, one prompt with the predictions that used it, rename, remove."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import prompts, selectors
from .forms import PromptRenameForm, PromptSaveForm
from .paging import id_param
from .roles import AuthedHttpRequest
from .views import PAGE_SIZE

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
