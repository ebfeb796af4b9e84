"""Collections and share links in the admin, read-only: members make and change them on their pages."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from albums.models import Collection, ShareLink


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Collection)
class CollectionAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "visibility", "created_at")
    list_filter = ("visibility",)
    search_fields = ("name", "owner__username")
    list_select_related = ("owner",)


@admin.register(ShareLink)
class ShareLinkAdmin(ReadOnlyAdmin):
    list_display = ("collection", "created_by", "created_at", "expires_at", "revoked_at", "open_count", "show_prompt")
    list_select_related = ("collection", "created_by")
    exclude = ("token_hash",)  # a hash, but still nothing to show
