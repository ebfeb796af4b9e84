from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import (
    accounts,
    catalog,
    quotas,
    reviews,
    roles,
    selectors,  # noqa: F401 - registers the text__contains_text and prompt__among lookups searched below
    services,
    tasks,
    uploads,
)
from .audit import audit_record
from .forms import ModelConfigForm  # catalog and history
from .models import (
    REMOTE,
    AuditEntry,
    LedgerEntry,
    MemberQuota,
    ModelConfig,
    Prediction,
    PredictionOutput,
    Prompt,
    TeamSettings,
    User,
)
from .review_forms import KNOWN_ACTIONS, AdminRejectForm
from .usage_forms import LedgerAdjustForm, MemberQuotaAdminForm  # quotas

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# --- Users with roles ----------------------------------------------


@admin.register(User)
class DeerWebUserAdmin(UserAdmin):
    """Roles are the Member / Reviewer / Admin groups. `is_staff` is not edited here: it follows
    the Admin group (and superuser), see `roles.user_staff_sync`. Role and activation changes
    are written to the audit log."""

    list_display = ("username", "email", "role", "is_active", "last_login")
    list_filter = ("is_active", "groups", "is_superuser")
    readonly_fields = ("is_staff", "last_login", "date_joined")
    actions = ["deactivate_selected", "reactivate_selected"]
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("role"))
    def role(self, obj: User) -> StrOrPromise:
        return roles.ROLE_LABELS[roles.role_of(obj)]

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser makes superusers or grants permissions outside the roles.
            fields += ("is_superuser", "user_permissions")
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            stored = User.objects.get(pk=obj.pk)
            request._roles_before = roles.user_roles_snapshot(stored)
            request._was_active = stored.is_active
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        if not change:
            # A new account with no role is a Member.
            if not user.groups.filter(name__in=roles.ROLES).exists():
                user.groups.add(roles.role_groups_ensure()[roles.MEMBER])
            roles.user_staff_sync(user)
            audit_record(
                actor=request.user,
                action="user.create",
                target=user,
                summary=user.get_username(),
                after=roles.user_roles_snapshot(user),
            )
            return
        roles.user_staff_sync(user)
        roles.user_roles_audit(user, request._roles_before, by=request.user)
        if request._was_active != user.is_active:
            accounts.user_active_audit(user, by=request.user)

    @admin.action(description=_("Deactivate selected members"), permissions=["change"])
    def deactivate_selected(self, request, queryset):
        self._set_active(request, queryset, accounts.user_deactivate)

    @admin.action(description=_("Reactivate selected members"), permissions=["change"])
    def reactivate_selected(self, request, queryset):
        self._set_active(request, queryset, accounts.user_reactivate)

    def _set_active(self, request, queryset, change) -> None:
        done = 0
        for user in queryset:
            try:
                done += change(user, by=request.user)
            except accounts.AccountError as exc:
                self.message_user(request, f"{user.get_username()}: {exc.message}", messages.ERROR)
        self.message_user(request, ngettext("%(n)d account changed.", "%(n)d accounts changed.", done) % {"n": done})


class AuditActionFilter(admin.SimpleListFilter):
    """Known actions, without the SELECT DISTINCT over the whole log that a field filter would run."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(action, action) for action in KNOWN_ACTIONS]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(action__startswith=value) if value.endswith(".") else queryset.filter(action=value)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the log is written only by `audit_record`."""

    list_display = ("created_at", "actor", "action", "target_type", "target_id", "summary")
    list_filter = ("created_at", AuditActionFilter)
    list_select_related = ("actor",)
    search_fields = ("=action", "=target_id")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = ("created_at", "actor", "action", "target_type", "target_id", "summary", "before", "after")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
    actions = ["approve_selected", "reject_selected", "repoll_selected"]
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
        return roles.is_reviewer(request.user)

    def has_repoll_permission(self, request):
        return roles.is_admin(request.user)

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

    def _ids(self, queryset) -> list[int]:
        return list(queryset.order_by().values_list("pk", flat=True)[:ACTION_LIMIT])

    def _report(self, request, ids: list[int], decided: list[int], done: str) -> None:
        self.message_user(request, done % {"n": len(decided)}, messages.SUCCESS if decided else messages.WARNING)
        if len(decided) < len(ids):
            self.message_user(
                request,
                ngettext(
                    "%(n)d was not changed: only succeeded predictions can be reviewed, and a decision is made once "
                    "(or revised from the other decision).",
                    "%(n)d were not changed: only succeeded predictions can be reviewed, and a decision is made once "
                    "(or revised from the other decision).",
                    len(ids) - len(decided),
                )
                % {"n": len(ids) - len(decided)},
                messages.WARNING,
            )

    @admin.action(description=_("Approve selected predictions"), permissions=["review"])
    def approve_selected(self, request, queryset):
        ids = self._ids(queryset)
        decided = reviews.review_approve_many(ids, by=request.user, revise=True)
        self._report(
            request, ids, decided, ngettext("Approved %(n)d prediction.", "Approved %(n)d predictions.", len(decided))
        )

    @admin.action(description=_("Reject selected predictions…"), permissions=["review"])
    def reject_selected(self, request, queryset):
        """Asks for the reason on an intermediate page, then rejects."""
        form = AdminRejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            ids = self._ids(queryset)
            decided = reviews.review_reject_many(
                ids, by=request.user, reason=form.cleaned_data["reason_text"], revise=True
            )
            self._report(
                request,
                ids,
                decided,
                ngettext("Rejected %(n)d prediction.", "Rejected %(n)d predictions.", len(decided)),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject predictions"),
            "opts": self.model._meta,
            "form": form,
            "queryset": queryset[:ACTION_LIMIT],
            "count": min(queryset.count(), ACTION_LIMIT),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/predictions/prediction/reject_selected.html", context)

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


# --- Models: enable, price, add by id; check DeerAPI's list ----------------


@admin.register(ModelConfig)
class ModelConfigAdmin(admin.ModelAdmin):
    """Settings over the built-in catalog, and models added by id with a JSON Schema.

    "Check DeerAPI's model list" never calls DeerAPI from the request: it queues
    `tasks.models_sync`, whose report (audit action "models.sync") this page shows.
    """

    form = ModelConfigForm
    list_display = ("model_id", "name", "vendor", "enabled", "price", "in_catalog", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("model_id", "name")
    actions = ["enable_selected", "disable_selected"]
    change_list_template = "admin/predictions/modelconfig/change_list.html"
    fieldsets = (
        (None, {"fields": ("model_id", "enabled", "price", "name", "vendor")}),
        (_("Only for models not in the catalog"), {"fields": ("output_shape", "input_schema")}),
        (_("Review"), {"fields": ("auto_approve",)}),
    )

    @admin.display(description=_("in the catalog"), boolean=True)
    def in_catalog(self, obj: ModelConfig) -> bool:
        return obj.model_id in catalog.MODELS

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        model_id = initial.get("model_id", "")
        spec = catalog.get_model(model_id) if isinstance(model_id, str) else None
        if spec is not None:
            initial.setdefault("name", spec.name)
            initial.setdefault("vendor", spec.vendor)
        return initial

    def get_urls(self):
        return [
            path("check/", self.admin_site.admin_view(self.check_view), name="predictions_modelconfig_check"),
            *super().get_urls(),
        ]

    def check_view(self, request):
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        actor_id = request.user.pk
        transaction.on_commit(lambda: tasks.models_sync.delay(actor_id))
        self.message_user(
            request, _("Asking DeerAPI for its model list; reload this page in a moment for the report."), messages.INFO
        )
        return redirect("admin:predictions_modelconfig_changelist")

    def changelist_view(self, request, extra_context=None):
        configs = {c.model_id: c for c in ModelConfig.objects.only("pk", "model_id", "enabled", "price")}
        builtin = [
            {"spec": spec, "config": configs.get(model_id), "price": spec.price}
            for model_id, spec in catalog.MODELS.items()
        ]
        extra_context = {
            **(extra_context or {}),
            "sync_report": selectors.models_sync_latest(),
            "builtin_models": builtin,
        }
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Enable selected models"), permissions=["change"])
    def enable_selected(self, request, queryset):
        done = queryset.filter(enabled=False).update(enabled=True)
        self.message_user(request, ngettext("%(n)d model enabled.", "%(n)d models enabled.", done) % {"n": done})

    @admin.action(description=_("Disable selected models"), permissions=["change"])
    def disable_selected(self, request, queryset):
        done = queryset.filter(enabled=True).update(enabled=False)
        self.message_user(request, ngettext("%(n)d model disabled.", "%(n)d models disabled.", done) % {"n": done})


# --- Quotas and cost: limits, team settings, the ledger, unknown outcomes ---------------


@admin.register(MemberQuota)
class MemberQuotaAdmin(admin.ModelAdmin):
    """A member's limits. Saved through `quotas.quota_update`, which writes the audit log;
    not deleted (a member without a row gets the team defaults copied at their next submission)."""

    form = MemberQuotaAdminForm
    list_display = ("user", "budget", "period", "max_in_flight", "models", "auto_approve", "updated_at")
    list_filter = ("period",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("allowed models"))
    def models(self, obj: MemberQuota) -> str:
        return ", ".join(obj.allowed_models) if obj.allowed_models else str(_("all"))

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in quotas.QUOTA_FIELDS if name in form.cleaned_data}
        try:
            obj.pk = quotas.quota_update(obj.user, changes, by=request.user).pk
        except PermissionDenied:
            self.message_user(request, _("Only admins change limits."), messages.ERROR)


@admin.register(TeamSettings)
class TeamSettingsAdmin(admin.ModelAdmin):
    """The one team settings row: its list page opens it. Saved through
    `quotas.team_settings_update`, which writes the audit log."""

    fieldsets = (
        (_("Defaults for new members"), {"fields": ("default_budget", "default_period", "default_max_in_flight")}),
        (_("Team"), {"fields": ("team_monthly_budget",)}),
        (
            _("DeerAPI"),
            {
                "fields": (
                    "deerapi_balance_empty_since",
                    "deerapi_key_rejected_since",
                    "deerapi_checked_at",
                    "deerapi_balance",
                    "deerapi_used",
                    "deerapi_check_error",
                    "deerapi_check_failed_at",
                )
            },
        ),
    )
    readonly_fields = flatten_fieldsets(fieldsets[2:])  # the DeerAPI section

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return redirect("admin:predictions_teamsettings_change", TeamSettings.load().pk)

    def save_model(self, request, obj, form, change):
        quotas.team_settings_update(
            {name: form.cleaned_data[name] for name in quotas.TEAM_FIELDS if name in form.cleaned_data},
            by=request.user,
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger changes only by new entries. "Adjust" adds an admin's
    correction through `quotas.ledger_adjust` (audited)."""

    list_display = ("created_at", "user", "kind", "amount", "model_id", "prediction_id", "reason", "created_by")
    list_filter = ("kind", "created_at")
    list_select_related = ("user", "created_by")
    search_fields = ("=user__username", "=model_id")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    ordering = ("-created_at", "-pk")
    fields = ("created_at", "user", "kind", "amount", "model_id", "prediction", "reason", "created_by")
    readonly_fields = fields
    change_list_template = "admin/predictions/ledgerentry/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("adjust/", self.admin_site.admin_view(self.adjust_view), name="predictions_ledgerentry_adjust"),
            *super().get_urls(),
        ]

    def adjust_view(self, request):
        if not roles.is_admin(request.user):
            raise PermissionDenied
        form = LedgerAdjustForm(request.POST or None, initial={"user": request.GET.get("user")})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                quotas.ledger_adjust(data["user"], data["amount"], data["reason"], by=request.user)
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    _("Adjustment of %(amount)s for %(member)s recorded.")
                    % {"amount": quotas.format_usd(data["amount"]), "member": data["user"].get_username()},
                )
                return redirect("admin:predictions_ledgerentry_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust a member's spending"),
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(
            request,
            "admin/predictions/ledgerentry/adjust.html",
            context,
            status=400 if form.is_bound and form.errors else 200,
        )


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
        lambda p: quotas.prediction_resolve_unknown(p, charge=True, by=request.user),
        lambda n: ngettext("%(n)d prediction resolved: charged.", "%(n)d predictions resolved: charged.", n) % {"n": n},
        _not_unknown,
    )


@admin.action(description=_("Resolve outcome unknown: DeerAPI never ran it, refund the member"))
def resolve_unknown_refund(modeladmin, request, queryset):
    _quota_action(
        modeladmin,
        request,
        queryset,
        lambda p: quotas.prediction_resolve_unknown(p, charge=False, by=request.user),
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
        lambda p: quotas.prediction_refund(p, by=request.user),
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


PredictionAdmin.actions = [*PredictionAdmin.actions, resolve_unknown_charge, resolve_unknown_refund, refund_selected]
