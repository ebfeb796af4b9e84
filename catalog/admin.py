"""The admin's model settings: enable or disable models, prices, and the check against DeerAPI's list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import current_app
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog import selectors as catalog_selectors
from catalog import specs as catalog
from catalog.forms import ModelConfigForm
from catalog.models import ModelConfig

if TYPE_CHECKING:
    pass


@admin.register(ModelConfig)
class ModelConfigAdmin(admin.ModelAdmin):
    """Settings over the built-in catalog, and models added by id with a JSON Schema.

    "Check DeerAPI's model list" never calls DeerAPI from the request: it queues
    the task `predictions.tasks.models_sync` (deerapi.sync), whose report (audit action "models.sync") this page shows.
    """

    form = ModelConfigForm
    list_display = ("model_id", "name", "vendor", "enabled", "price", "in_catalog", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("model_id", "name")
    actions = ["enable_selected", "disable_selected"]
    change_list_template = "admin/catalog/modelconfig/change_list.html"
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
            path("check/", self.admin_site.admin_view(self.check_view), name="catalog_modelconfig_check"),
            *super().get_urls(),
        ]

    def check_view(self, request):
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        actor_id = request.user.pk
        transaction.on_commit(lambda: current_app.send_task("predictions.tasks.models_sync", args=[actor_id]))
        self.message_user(
            request, _("Asking DeerAPI for its model list; reload this page in a moment for the report."), messages.INFO
        )
        return redirect("admin:catalog_modelconfig_changelist")

    def changelist_view(self, request, extra_context=None):
        configs = {c.model_id: c for c in ModelConfig.objects.only("pk", "model_id", "enabled", "price")}
        builtin = [
            {"spec": spec, "config": configs.get(model_id), "price": spec.price}
            for model_id, spec in catalog.MODELS.items()
        ]
        extra_context = {
            **(extra_context or {}),
            "sync_report": catalog_selectors.models_sync_latest(),
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
