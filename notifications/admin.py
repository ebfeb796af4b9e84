from django.contrib import admin

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "created_at", "read_at")
    list_filter = ("kind",)
    list_select_related = ("recipient",)
    readonly_fields = ("recipient", "kind", "params", "url", "created_at", "read_at")
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request):
        return False
