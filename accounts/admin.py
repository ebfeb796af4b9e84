"""Members in the admin site, with their role, and deactivation instead of deletion; API tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import roles, tokens
from accounts import services as accounts
from accounts.models import ApiToken
from audit.services import audit_record
from common import permissions

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from predictions.models import User


@admin.register(get_user_model())
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
        return permissions.ROLE_LABELS[permissions.role_of(obj)]

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
            stored = get_user_model().objects.get(pk=obj.pk)
            request._roles_before = roles.user_roles_snapshot(stored)
            request._was_active = stored.is_active
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        if not change:
            # A new account with no role is a Member.
            if not user.groups.filter(name__in=permissions.ROLES).exists():
                user.groups.add(roles.role_groups_ensure()[permissions.MEMBER])
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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens, for admins: find one, revoke it. Never a hash on screen, and no "Add":
    a token for someone else is made with `manage.py api_token create`, which prints it."""

    list_display = ("name", "user", "prefix", "read_only", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("read_only", ("revoked_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("user",)
    search_fields = ("name", "=prefix", "user__username")
    show_facets = admin.ShowFacets.NEVER
    fields = (
        "user",
        "name",
        "prefix",
        "read_only",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "last_used_address",
        "revoked_at",
    )
    readonly_fields = fields
    actions = ["revoke_selected"]

    # Admins by role, as on DeerWeb's own pages (tokens are no permission of the groups).
    def has_module_permission(self, request):
        return permissions.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        # The list's revoke action needs "change"; a token's own page is read-only (no Save).
        return obj is None and permissions.is_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Revoked, a token stays on record with when it was last used.
        return False

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        done = sum(tokens.token_revoke(token, by=request.user) for token in queryset.select_related("user"))
        self.message_user(request, ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", done) % {"n": done})
