"""The audit log in the admin site: read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.forms import KNOWN_ACTIONS
from audit.models import AuditEntry
from common import permissions

if TYPE_CHECKING:
    pass


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
        return permissions.is_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
