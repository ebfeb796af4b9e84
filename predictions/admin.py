from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from typing import TYPE_CHECKING

import django
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import admin_list_filter, items_for_result
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog import specs as catalog
from common import permissions, rows
from predictions import services, settlement, uploads
from predictions.models import REMOTE, Prediction, PredictionOutput, Prompt

if TYPE_CHECKING:
    pass


def _thumbnail(prediction_id: int, index: int, size: int) -> str:
    # Served by DeerWeb's own view after its permission check, never from MEDIA_URL.
    return format_html(
        # No style attribute (the Content-Security-Policy forbids inline style): see admin.css.
        '<img src="{}" alt="{}" width="{}" height="{}" loading="lazy" class="deerweb-thumb">',
        reverse("predictions:thumbnail", args=[prediction_id, index]),
        _("Output"),
        size,
        size,
    )


class PredictionOutputInline(admin.TabularInline):
    model = PredictionOutput
    extra = 0
    can_delete = False
    fields = ("index", "preview", "content_type", "size", "width", "height", "checksum", "source_url")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("image"))
    def preview(self, obj: PredictionOutput) -> str:
        return _thumbnail(obj.prediction_id, obj.index, 128)


class ModelFilter(admin.SimpleListFilter):
    """The catalog's models, without the SELECT DISTINCT over every prediction a field filter runs."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return catalog.model_choices()

    def queryset(self, request, queryset):
        return queryset.filter(model_id=self.value()) if self.value() else queryset


# Bulk actions touch at most this many rows at once (one transaction each).
ACTION_LIMIT = 1000
# A prompt search lists at most this many matching prompts' ids (see PredictionAdmin.get_search_results).
SEARCH_PROMPTS_LISTED = 10_000


class NearerEndPaginator(Paginator):
    """Pages in the second half are read from the other end, in the reversed order, and
    turned back: the last page of 100,000 predictions costs what the first does, where
    an OFFSET would have PostgreSQL walk every row before it. Needs a total ordering,
    which the admin's changelist ensures (it adds the primary key)."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        object_list = self.object_list
        if bottom <= self.count - top or not isinstance(object_list, QuerySet) or not object_list.ordered:
            return super().page(number)
        rows = list(object_list.reverse()[self.count - top : self.count - bottom])
        rows.reverse()
        # Paginator's hook for the Page class, which the stubs do not declare.
        return self._get_page(rows, number, self)  # type: ignore[attr-defined]


class PreservedFiltersChangeList(ChangeList):
    """Each row's link keeps the search and filters, as Django's does, but appended here:
    Django's `add_preserved_filters` resolves every row's URL again to learn that it is
    not the list's own (a URL resolve per row)."""

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # "_changelist_filters=…", already encoded; empty without a search or filter.
        self.row_query, self.preserved_filters = self.preserved_filters, ""

    def url_for_result(self, result) -> str:
        url = super().url_for_result(result)
        return f"{url}?{self.row_query}" if self.row_query else url


@functools.cache
def _admin_code_digest() -> str:
    """The code that renders a row (this module, Django's admin version): a deploy that changes it
    does not show rows cached before it."""
    source = inspect.getsource(sys.modules[__name__]) + django.get_version()
    return hashlib.blake2b(source.encode(), digest_size=6).hexdigest()


def changelist_rows(cl: ChangeList) -> list[SafeString]:
    """The HTML of each row of the predictions' list, as Django's admin renders it
    (`items_for_result`), from the cache (common/rows.py) when nothing it shows has changed.

    Django spends most of the list's time building each row's cells, field by field; a row is
    the same on every visit until its prediction's status, review, cost or owner changes. The key
    holds every value the row shows. Rows differ between lists by their columns (the checkbox
    comes with actions) and by the search and filters their link keeps.
    """
    ambient = (
        "admin-prediction-row",
        _admin_code_digest(),
        tuple(cl.list_display),
        tuple(cl.list_display_links or ()),
        getattr(cl, "row_query", ""),
        cl.is_popup,
        cl.to_field,
    )

    def key(prediction: Prediction) -> tuple[object, ...]:
        outputs = prediction.outputs.all()
        return (
            prediction.pk,
            prediction.status,
            prediction.review_state,
            prediction.model_id,
            prediction.actual_cost,
            prediction.estimated_cost,
            prediction.created_at,
            prediction.prompt.text,  # not only its id: a database made anew uses ids again
            prediction.owner.get_username(),
            outputs[0].index if outputs else None,
        )

    def render(prediction: Prediction) -> str:
        return "".join(items_for_result(cl, prediction, None))

    return rows.rows_cached(list(cl.result_list), key=key, render=render, ambient=ambient)


def changelist_filters(cl: ChangeList) -> SafeString:
    """The filter column's HTML, as Django's admin renders it (`admin_list_filter` for each filter),
    from the cache (common/rows.py) when the list's parameters and each filter's choices are the same.

    Each filter's HTML is a function of the list's parameters (its links add or remove theirs)
    and of its own choices: the members (`owner`), the catalog's models, the dates its links name
    (`created_at`: today, the past 7 days…). Those are read when the list is built; rendering them,
    a link built for each of about 90 choices, was a quarter of the list's time in cProfile (a few
    milliseconds measured without it)."""
    specs = list(cl.filter_specs)
    parameters = tuple(sorted((name, str(value)) for name, value in cl.params.items()))
    key: tuple[object, ...] = (parameters, cl.add_facets, *(_filter_state(spec) for spec in specs))

    def render(_key: object) -> str:
        # django-stubs name FieldListFilter; Django renders any list filter (SimpleListFilter too).
        return "".join(admin_list_filter(cl, spec) for spec in specs)  # type: ignore[arg-type]

    ambient = ("admin-prediction-filters", _admin_code_digest())
    return rows.rows_cached([key], key=lambda state: state, render=render, ambient=ambient)[0]


def _filter_state(spec: object) -> tuple[object, ...]:
    """What a Django list filter shows besides the list's parameters: its choices and links, read
    when the list was built (lazy labels as text in the current language)."""
    state: list[object] = [type(spec).__qualname__, str(getattr(spec, "title", ""))]
    for name in ("lookup_choices", "links", "lookup_val", "lookup_val_isnull"):
        state.append(_plain(getattr(spec, name, None)))
    return tuple(state)


def _plain(value: object) -> object:
    """`value` with its lazy strings as text and its dicts as sorted pairs: a stable repr for a key."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _plain(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    return value


# --- Money actions (admins only: `billing.admin_required`) ----------------------------------


def _quota_action(modeladmin, request, queryset, change, done_message, skipped_message) -> None:
    """Apply `change` to each selected prediction; the messages are functions of a count."""
    done = skipped = 0
    for prediction in queryset[:ACTION_LIMIT]:
        try:
            if change(prediction):
                done += 1
            else:
                skipped += 1
        except PermissionDenied:
            modeladmin.message_user(request, _("Only admins resolve and refund predictions."), messages.ERROR)
            return
    modeladmin.message_user(request, done_message(done), messages.SUCCESS if done else messages.WARNING)
    if skipped:
        modeladmin.message_user(request, skipped_message(skipped), messages.WARNING)


def _not_unknown(n: int) -> str:
    return ngettext(
        "%(n)d skipped: only a prediction whose outcome is unknown can be resolved.",
        "%(n)d skipped: only predictions whose outcome is unknown can be resolved.",
        n,
    ) % {"n": n}


@admin.action(description=_("Resolve outcome unknown: DeerAPI ran it, charge the member"))
def resolve_unknown_charge(modeladmin, request, queryset):
    _quota_action(
        modeladmin,
        request,
        queryset,
        lambda p: services.prediction_resolve_unknown(p, charge=True, by=request.user),
        lambda n: ngettext("%(n)d prediction resolved: charged.", "%(n)d predictions resolved: charged.", n) % {"n": n},
        _not_unknown,
    )


@admin.action(description=_("Resolve outcome unknown: DeerAPI never ran it, refund the member"))
def resolve_unknown_refund(modeladmin, request, queryset):
    _quota_action(
        modeladmin,
        request,
        queryset,
        lambda p: services.prediction_resolve_unknown(p, charge=False, by=request.user),
        lambda n: (
            ngettext("%(n)d prediction resolved: refunded.", "%(n)d predictions resolved: refunded.", n) % {"n": n}
        ),
        _not_unknown,
    )


@admin.action(description=_("Refund selected predictions to their members"))
def refund_selected(modeladmin, request, queryset):
    _quota_action(
        modeladmin,
        request,
        queryset,
        lambda p: settlement.prediction_refund(p, by=request.user),
        lambda n: ngettext("%(n)d prediction refunded.", "%(n)d predictions refunded.", n) % {"n": n},
        lambda n: (
            ngettext(
                "%(n)d skipped: not finished, or nothing left to refund.",
                "%(n)d skipped: not finished, or nothing left to refund.",
                n,
            )
            % {"n": n}
        ),
    )


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    """Everything here is read-only: a prediction changes only through services and the
    actions below (which write the audit log), never by editing a field."""

    # deerweb/admin.css (the thumbnails' object-fit) is on every admin page: admin/base_site.html.

    # Each column of the 50 rows costs; completion times are on the change page (and a filter).
    list_display = (
        "id",
        "thumbnail",
        "prompt_text",
        "owner",
        "model_id",
        "status",
        "review_state",
        "cost",
        "created_at",
    )
    list_display_links = ("prompt_text",)
    list_filter = ("status", "review_state", ModelFilter, "owner", "is_private", "created_at", "completed_at")
    list_select_related = ("owner", "prompt")
    # `=` for the id (its index); the prompt through the trigram index (see selectors.PromptTextContains).
    search_fields = ("=deerapi_id", "prompt__text__contains_text")
    search_help_text = _("A DeerAPI id (exact), or words from the prompt.")

    def get_search_results(self, request, queryset, search_term):
        # An exact DeerAPI id first (its index), else the prompt text alone (the trigram
        # index): one OR across the join would make PostgreSQL scan both tables.
        term = search_term.strip()
        if not term:
            return queryset, False
        by_id = queryset.filter(deerapi_id=term)
        if by_id.exists():
            return by_id, False
        # The matching prompts' ids first, as a list: joined instead, PostgreSQL rechecks the
        # prompts' text in both the count and the page (often in a parallel plan), or walks
        # every prediction newest first looking each prompt up. Given the ids, the count reads
        # the prompt_id index alone and the page walks created_at against a hashed list.
        prompt_ids = list(
            Prompt.objects.filter(text__contains_text=term).values_list("pk", flat=True)[: SEARCH_PROMPTS_LISTED + 1]
        )
        if len(prompt_ids) > SEARCH_PROMPTS_LISTED:  # a common word: too long a list to send
            return queryset.filter(prompt__text__contains_text=term), False
        return queryset.filter(prompt__among=prompt_ids), False

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    paginator = NearerEndPaginator
    ordering = ("-created_at", "-pk")
    # The review decisions are added by the reviews app (reviews/admin.py).
    actions = ["repoll_selected", resolve_unknown_charge, resolve_unknown_refund, refund_selected]
    fieldsets = (
        (None, {"fields": ("owner", "prompt_text", "model_id", "inputs_sent", "status", "error")}),
        (
            _("Review"),
            {
                "fields": (
                    "review_state",
                    "reviewed_by",
                    "reviewed_at",
                    "review_reason",
                    "is_private",
                    "files_deleted_at",
                )
            },
        ),
        (_("Cost"), {"fields": ("price", "estimated_cost", "actual_cost", "image_count")}),
        (
            _("From DeerAPI"),
            {
                "fields": (
                    "deerapi_id",
                    "remote_output",
                    "logs",
                    "metrics",
                    "seed",
                    "submitted_at",
                    "started_at",
                    "completed_at",
                )
            },
        ),
        (
            _("Pipeline"),
            {"fields": ("created_at", "next_poll_at", "poll_count", "attempts", "source", "compare_group")},
        ),
    )
    readonly_fields = flatten_fieldsets(fieldsets)
    inlines = [PredictionOutputInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "outputs", queryset=PredictionOutput.objects.order_by("index").only("id", "prediction_id", "index")
                )
            )
        )

    def get_changelist(self, request, **kwargs):
        return PreservedFiltersChangeList

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # The record stays (the ledger and the audit log point at it); files can be deleted instead.
        return False

    def has_review_permission(self, request):
        return permissions.is_reviewer(request.user)

    def has_repoll_permission(self, request):
        return permissions.is_admin(request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def action_checkbox(self, obj: Prediction) -> SafeString:
        # The checkbox Django writes, without rendering a widget template for each row
        # (a fifth of the list's time).
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            _("Select this object for an action - {}").format(obj),
        )

    @admin.display(description=_("image"))
    def thumbnail(self, obj: Prediction) -> str:
        outputs = obj.outputs.all()
        return _thumbnail(obj.pk, outputs[0].index, 64) if outputs else "—"

    @admin.display(description=_("input sent"))
    def inputs_sent(self, obj: Prediction) -> str:
        # As the prediction's page shows them: an uploaded image is a link that checks who asks.
        return format_html_join(
            mark_safe("<br>"),
            "<code>{}</code>: {}",
            (  # noqa: S308 - a constant
                (name, render_to_string("predictions/_input_values.html", {"items": items}))
                for name, items in uploads.inputs_shown(obj)
            ),
        )

    @admin.display(description=_("prompt"))
    def prompt_text(self, obj: Prediction) -> str:
        text = obj.prompt.text
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description=_("cost (USD)"), ordering="actual_cost")
    def cost(self, obj: Prediction) -> str:
        return str(obj.actual_cost if obj.actual_cost is not None else obj.estimated_cost)

    @admin.action(description=_("Ask DeerAPI again now (re-poll)"), permissions=["repoll"])
    def repoll_selected(self, request, queryset):
        done = sum(services.prediction_repoll(p) for p in queryset.filter(status__in=REMOTE)[:ACTION_LIMIT])
        self.message_user(
            request,
            ngettext(
                "Asked DeerAPI about %(n)d running prediction.",
                "Asked DeerAPI about %(n)d running predictions.",
                done,
            )
            % {"n": done},
            messages.SUCCESS if done else messages.WARNING,
        )


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "text", "created_at")
    list_select_related = ("owner",)
    search_fields = ("text",)
    raw_id_fields = ("owner",)
