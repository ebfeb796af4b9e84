"""Quotas, team settings and the ledger in the admin site; ledger entries are added, never edited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from billing import services as billing
from billing.forms import LedgerAdjustForm, MemberQuotaAdminForm
from billing.models import BudgetAlert, LedgerEntry, MemberQuota, TeamSettings
from common import permissions

if TYPE_CHECKING:
    pass


@admin.register(MemberQuota)
class MemberQuotaAdmin(admin.ModelAdmin):
    """A member's limits. Saved through `billing.quota_update`, which writes the audit log;
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
        changes = {name: form.cleaned_data[name] for name in billing.QUOTA_FIELDS if name in form.cleaned_data}
        try:
            obj.pk = billing.quota_update(obj.user, changes, by=request.user).pk
        except PermissionDenied:
            self.message_user(request, _("Only admins change limits."), messages.ERROR)


@admin.register(TeamSettings)
class TeamSettingsAdmin(admin.ModelAdmin):
    """The one team settings row: its list page opens it. Saved through
    `billing.team_settings_update`, which writes the audit log."""

    fieldsets = (
        (_("Defaults for new members"), {"fields": ("default_budget", "default_period", "default_max_in_flight")}),
        (_("Team"), {"fields": ("team_monthly_budget",)}),
        (_("Downloads"), {"fields": ("embed_download_metadata",)}),
        (
            _("Budget alerts"),
            {
                "fields": ("alert_thresholds", "team_alert_thresholds"),
                "description": _("Changed on the budget alerts page (/alerts/settings/), which checks them."),
            },
        ),
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
    readonly_fields = flatten_fieldsets(fieldsets[3:])  # budget alerts and the DeerAPI section

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return redirect("admin:billing_teamsettings_change", TeamSettings.load().pk)

    def save_model(self, request, obj, form, change):
        billing.team_settings_update(
            {name: form.cleaned_data[name] for name in billing.TEAM_FIELDS if name in form.cleaned_data},
            by=request.user,
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger changes only by new entries. "Adjust" adds an admin's
    correction through `billing.ledger_adjust` (audited)."""

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
    change_list_template = "admin/billing/ledgerentry/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("adjust/", self.admin_site.admin_view(self.adjust_view), name="billing_ledgerentry_adjust"),
            *super().get_urls(),
        ]

    def adjust_view(self, request):
        if not permissions.is_admin(request.user):
            raise PermissionDenied
        form = LedgerAdjustForm(request.POST or None, initial={"user": request.GET.get("user")})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                billing.ledger_adjust(data["user"], data["amount"], data["reason"], by=request.user)
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    _("Adjustment of %(amount)s for %(member)s recorded.")
                    % {"amount": billing.format_usd(data["amount"]), "member": data["user"].get_username()},
                )
                return redirect("admin:billing_ledgerentry_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust a member's spending"),
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(
            request,
            "admin/billing/ledgerentry/adjust.html",
            context,
            status=400 if form.is_bound and form.errors else 200,
        )


@admin.register(BudgetAlert)
class BudgetAlertAdmin(admin.ModelAdmin):
    """Read-only: the thresholds reached, one row per subject, threshold and period."""

    list_display = ("created_at", "subject_key", "threshold", "spent", "budget", "period_start")
    list_filter = ("subject", "threshold")
    ordering = ("-created_at", "-pk")
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
