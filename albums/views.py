"""Collections (/collections/, members) and the share pages (/s/<token>/, no login)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from albums import selectors, services
from albums.forms import AddForm, CollectionForm, ShareLinkForm
from albums.models import Collection, CollectionItem, ShareLink
from common import rows
from common.paging import id_param, keyset_context
from common.permissions import AuthedHttpRequest
from common.requests import form_nonce_issue, form_nonce_spent, safe_next, wants_json
from predictions import archive, cards, serving
from predictions.models import Prediction, User

LIST_PAGE_SIZE = 30
ITEMS_PAGE_SIZE = 48
SHARE_PAGE_SIZE = 60


# --- Collections ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def collection_list(request: AuthedHttpRequest) -> HttpResponse:
    """The member's collections and the team's, and a form to start one."""
    form = CollectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            collection = services.collection_create(owner=request.user, **form.cleaned_data)
        except services.CollectionError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Collection “%(name)s” created.") % {"name": collection.name})
            return redirect(collection)
    page = keyset_context(request, selectors.collections_seen_by(request.user), size=LIST_PAGE_SIZE)
    context = {"form": form, "collections": page.pop("rows"), **page}
    return render(request, "collections/list.html", context, status=400 if form.errors else 200)


def _detail(request: AuthedHttpRequest, collection: Collection, *, status: int = 200, **extra: Any) -> HttpResponse:
    owner = collection.owner_id == request.user.pk
    items_seen = selectors.as_tiles(selectors.collection_items(request.user, collection))
    page = keyset_context(request, items_seen, size=ITEMS_PAGE_SIZE)
    items = page.pop("rows")
    context: dict[str, Any] = {
        "collection": collection,
        "owner": owner,
        "items": items,
        # An item's tile is the same on every visit: rendered once (common/rows.py).
        "tiles": rows.rows_rendered(
            "collections/_tile.html", items, name="item", key=_tile_key, context={"owner": owner}
        ),
        **page,
    }
    if owner:
        context.update(
            edit_form=CollectionForm(initial={"name": collection.name, "visibility": collection.visibility}),
            share_form=ShareLinkForm(),
            form_nonce=form_nonce_issue(request, SHARE_FORM_NONCE),
            links=selectors.collection_share_links(collection),
            now=timezone.now(),
        )
    context.update(extra)
    response = render(request, "collections/detail.html", context, status=status)
    if "new_link" in extra:
        response["Cache-Control"] = "no-store"  # the link's address is shown on this page only
    return response


def _tile_key(item: CollectionItem) -> tuple[object, ...]:
    """What an item's tile shows: its output's thumbnail and its prediction's prompt."""
    prediction = item.output.prediction
    return (item.pk, cards.output_key(item.output), prediction.pk, prediction.prompt_id, prediction.prompt.text)


@login_required
@require_GET
def collection_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.collection_get(request.user, pk))


@login_required
@require_POST
def collection_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    collection = selectors.collection_own_get(request.user, pk)
    form = CollectionForm(request.POST)
    if form.is_valid():
        try:
            services.collection_update(collection, **form.cleaned_data)
        except services.CollectionError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect(collection)
    collection.refresh_from_db()
    return _detail(request, collection, status=400, edit_form=form)


@login_required
@require_POST
def collection_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    collection = selectors.collection_own_get(request.user, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that the collection should be deleted."))
        return redirect(collection)
    services.collection_delete(collection, by=request.user)
    messages.success(
        request, _("Collection “%(name)s” deleted; its images stay in DeerWeb.") % {"name": collection.name}
    )
    return redirect("collections:list")


@login_required
@require_POST
def collection_item_remove(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    collection = selectors.collection_own_get(request.user, pk)
    item_id = id_param(request.POST.get("item"))
    if item_id and services.collection_item_remove(collection, item_id):
        messages.success(request, _("Removed from the collection."))
    return _back(request, collection.get_absolute_url())


@login_required
@require_GET
def collection_download(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    """The collection's images that the member may see, with metadata.json and metadata.csv, as a .zip."""
    collection = selectors.collection_get(request.user, pk)
    predictions = selectors.collection_archive(request.user, collection)
    if not predictions:
        messages.error(request, _("This collection has no image to download."))
        return redirect(collection)
    return archive.archive_response(predictions, filename=f"deerweb-collection-{collection.pk}.zip")


# --- Adding -------------------------------------------------------------------------------------


def _chosen_ids(request: HttpRequest) -> tuple[list[int], list[int]]:
    """The predictions (`id`: history rows; `ids`: review cards) and outputs (`output`) chosen."""
    data = request.POST if request.method == "POST" else request.GET
    predictions = [pk for value in [*data.getlist("id"), *data.getlist("ids")] if (pk := id_param(value))]
    outputs = [pk for value in data.getlist("output") if (pk := id_param(value))]
    return predictions, outputs


@login_required
@require_http_methods(["GET", "POST"])
def collection_add(request: AuthedHttpRequest) -> HttpResponse:
    """Add chosen outputs to a collection. Without a collection chosen (a selection sent from the
    history or the review queue) it shows the choice; with one it adds and goes back to `next`.
    With `Accept: application/json` (static/deerweb/collections.js) it answers with the message instead."""
    json_wanted = wants_json(request)
    prediction_ids, output_ids = _chosen_ids(request)
    outputs = selectors.outputs_to_add(request.user, prediction_ids=prediction_ids, output_ids=output_ids)
    collections = selectors.collections_own(request.user)
    picking = request.method == "GET" or "add" not in request.POST
    form = AddForm(None if picking else request.POST, collections=collections)
    back = safe_next(request, reverse("collections:list"))
    if not outputs:
        message = _("Select the images to add first.")
        if json_wanted:
            return JsonResponse({"error": message}, status=400)
        messages.error(request, message)
        return HttpResponseRedirect(back)
    if not picking and form.is_valid():
        try:
            with transaction.atomic():  # a new collection is kept only if the images went in
                collection = _collection_chosen(request.user, form.cleaned_data, collections)
                added = services.collection_items_add(collection, outputs)
        except services.CollectionError as exc:
            form.add_error(None, exc.message)
        else:
            if added:
                message = ngettext("Added %(n)d image to “%(name)s”.", "Added %(n)d images to “%(name)s”.", added) % {
                    "n": added,
                    "name": collection.name,
                }
            else:
                message = _("These images were in “%(name)s” already.") % {"name": collection.name}
            if json_wanted:
                return JsonResponse({"message": message, "collection": collection.get_absolute_url()})
            messages.success(request, message)
            return HttpResponseRedirect(back)
    if json_wanted:
        errors = " ".join(str(e) for errs in form.errors.values() for e in errs)
        return JsonResponse({"error": errors}, status=400)
    context = {
        "form": form,
        "outputs": outputs[:60],
        "count": len(outputs),
        "prediction_ids": prediction_ids,
        "output_ids": output_ids,
        "next": back,
    }
    return render(request, "collections/add.html", context, status=400 if form.errors else 200)


def _collection_chosen(user: User, data: dict[str, Any], collections: list[Collection]) -> Collection:
    if data.get("collection"):  # the form's choices are the member's own collections
        return next(c for c in collections if c.pk == data["collection"])
    existing = next((c for c in collections if c.name == data["new_name"]), None)
    return existing or services.collection_create(owner=user, name=data["new_name"])


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request, default))


def prediction_panel(request: AuthedHttpRequest, prediction: Prediction) -> tuple[str, dict[str, Any]] | None:
    """ "Add to collection" on a prediction's page (predictions.views.detail_panels_register): two queries."""
    if prediction.files_deleted_at is not None:
        return None
    outputs = [output for output in prediction.outputs.all() if output.file]
    if not outputs:
        return None
    form = AddForm(collections=selectors.collections_own(request.user))
    return "collections/_prediction_panel.html", {"form": form, "outputs": outputs, "next": request.get_full_path()}


# --- Share links --------------------------------------------------------------------------------


SHARE_FORM_NONCE = "share_link_form_nonce"


@login_required
@require_POST
def share_link_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Make a link; its address is on the page that answers, and nowhere else (only its hash is kept)."""
    collection = selectors.collection_own_get(request.user, pk)
    form = ShareLinkForm(request.POST)
    if not form.is_valid():
        return _detail(request, collection, status=400, share_form=form)
    if not form_nonce_spent(request, SHARE_FORM_NONCE):
        messages.info(
            request, _("That form was sent already: its link was made and shown once. Make another one below.")
        )
        return redirect(collection)
    try:
        link, token = services.share_link_create(
            collection, by=request.user, days=form.cleaned_data["days"], show_prompt=form.cleaned_data["show_prompt"]
        )
    except services.CollectionError as exc:
        form.add_error("days", exc.message)
        return _detail(request, collection, status=400, share_form=form)
    url = request.build_absolute_uri(reverse("share:page", args=[token]))
    return _detail(request, collection, new_link=link, new_link_url=url)


@login_required
@require_POST
def share_link_revoke(request: AuthedHttpRequest, pk: int, link_id: int) -> HttpResponse:
    collection = selectors.collection_own_get(request.user, pk)
    link = ShareLink.objects.filter(collection=collection, pk=link_id).select_related("collection").first()
    if link is None:
        raise Http404
    if services.share_link_revoke(link, by=request.user):
        messages.success(request, _("The link is revoked: it now leads nowhere."))
    return redirect(collection)


def _share_headers(response: HttpResponseBase) -> HttpResponseBase:
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponseBase:
    """A collection as a share link shows it: no login; its images only (and their prompts if the
    sharer chose so). Unknown, expired and revoked links are the same 404."""
    link = selectors.share_link_get(token)
    if "after" not in request.GET:
        services.share_link_opened(link)
    page = keyset_context(request, selectors.as_tiles(selectors.share_items(link)), size=SHARE_PAGE_SIZE)
    context = {"link": link, "token": token, "items": page.pop("rows"), **page}
    return _share_headers(render(request, "share/page.html", context))


@require_GET
def share_image(request: HttpRequest, token: str, item_id: int) -> HttpResponseBase:
    """An image of a share page, checked against the link (and what it may show) on each request."""
    item = selectors.share_item_get(selectors.share_link_get(token), item_id)
    return _share_headers(serving.output_response(item.output, "file", download=False))


@require_GET
def share_thumbnail(request: HttpRequest, token: str, item_id: int) -> HttpResponseBase:
    item = selectors.share_item_get(selectors.share_link_get(token), item_id)
    field = "thumbnail" if item.output.thumbnail else "file"
    return _share_headers(serving.output_response(item.output, field, download=False))
