"""DeerWeb's admin site: Django's, with each member's list of apps built once.

Every admin page shows the apps and models its visitor may use (the side navigation, the
index). Django builds that list on every request: each registered model's permissions asked
for, and its URLs reversed, about a tenth of a list page's time. The list depends only on who
asks (their permissions and flags), the language and the URL prefix, and on the registered
models, which do not change while a process runs; so it is kept per process, keyed by those.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.urls import get_script_prefix
from django.utils.translation import get_language

# Distinct (visitor's permissions, language, prefix, app) lists kept; the oldest go first.
APP_LISTS_KEPT = 256


class DeerWebAdminSite(admin.AdminSite):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._app_lists: OrderedDict[tuple[object, ...], list[dict[str, Any]]] = OrderedDict()
        self._app_lists_lock = threading.Lock()

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        key = _app_list_key(request, app_label)
        with self._app_lists_lock:
            found = self._app_lists.get(key)
            if found is not None:
                self._app_lists.move_to_end(key)
                return found
        app_list = super().get_app_list(request, app_label)
        with self._app_lists_lock:
            self._app_lists[key] = app_list
            while len(self._app_lists) > APP_LISTS_KEPT:
                self._app_lists.popitem(last=False)
        return app_list


def _app_list_key(request: HttpRequest, app_label: str | None) -> tuple[object, ...]:
    """Who asks, as the ModelAdmins' permission checks see them (common.permissions asks for
    permissions and the superuser flag only), in which language, under which URL prefix.
    A superuser's permissions are not read: they hold every one (and reading them is a query)."""
    user = request.user
    permissions = None if user.is_superuser else frozenset(user.get_all_permissions())
    flags = (user.pk, user.is_active, user.is_staff, user.is_superuser)
    return (app_label, flags, permissions, get_language(), get_script_prefix())


class DeerWebAdminConfig(AdminConfig):
    default_site = "deerweb.admin_site.DeerWebAdminSite"
