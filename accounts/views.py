"""The team page, for admins: members and their roles, invites, deactivation, password links."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import roles
from accounts import selectors as accounts_selectors
from accounts import services as accounts
from accounts.forms import InviteForm, RoleForm
from audit import selectors as audit_selectors
from common import permissions
from common.permissions import AuthedHttpRequest

if TYPE_CHECKING:
    from predictions.models import User

PAGE_SIZE = 50


@permissions.role_required(permissions.is_admin)
@require_GET
def team(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(accounts_selectors.team_members(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(user, permissions.ROLE_LABELS[permissions.role_of(user)]) for user in page.object_list]
    return render(request, "team/list.html", {"page": page, "rows": rows})


@permissions.role_required(permissions.is_admin)
@require_http_methods(["GET", "POST"])
def team_invite(request: AuthedHttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user, path = accounts.user_invite(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                by=request.user,
            )
            return _link_page(request, user, path, invited=True)
        return render(request, "team/invite.html", {"form": form}, status=400)
    return render(request, "team/invite.html", {"form": form})


@permissions.role_required(permissions.is_admin)
@require_GET
def team_member(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(get_user_model().objects.prefetch_related("groups"), pk=pk)
    role = permissions.role_of(member)
    context = {
        "member": member,
        "role": permissions.ROLE_LABELS[role],
        "role_form": RoleForm(initial={"role": role}),
        "history": audit_selectors.audit_entries(
            target_type=get_user_model()._meta.label_lower, target_id=str(member.pk)
        )[:20],
    }
    return render(request, "team/member.html", context)


@permissions.role_required(permissions.is_admin)
@require_POST
def team_member_role(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(get_user_model(), pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the roles."))
    elif member.is_superuser:
        messages.error(request, _("A superuser is always an admin; change that in the admin site."))
    elif member.pk == request.user.pk:
        messages.error(request, _("You cannot change your own role; ask another admin."))
    elif roles.user_role_set(member, form.cleaned_data["role"], by=request.user):
        messages.success(
            request,
            _("The role of %(name)s is now %(role)s.")
            % {"name": member.get_username(), "role": permissions.ROLE_LABELS[form.cleaned_data["role"]]},
        )
    return redirect("team:member", pk=member.pk)


@permissions.role_required(permissions.is_admin)
@require_POST
def team_member_active(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(get_user_model(), pk=pk)
    try:
        if request.POST.get("active") == "1":
            if accounts.user_reactivate(member, by=request.user):
                messages.success(request, _("%(name)s can log in again.") % {"name": member.get_username()})
        elif accounts.user_deactivate(member, by=request.user):
            messages.success(
                request,
                _("%(name)s is deactivated: they can no longer log in or submit; their history stays.")
                % {"name": member.get_username()},
            )
    except accounts.AccountError as exc:
        messages.error(request, exc.message)
    return redirect("team:member", pk=member.pk)


@permissions.role_required(permissions.is_admin)
@require_POST
def team_member_password_link(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(get_user_model(), pk=pk)
    try:
        path = accounts.user_password_link(member, by=request.user)
    except accounts.AccountError as exc:
        messages.error(request, exc.message)
        return redirect("team:member", pk=member.pk)
    return _link_page(request, member, path, invited=False)


def _link_page(request: HttpRequest, member: User, path: str, *, invited: bool) -> HttpResponse:
    response = render(
        request,
        "team/link.html",
        {
            "member": member,
            "link": request.build_absolute_uri(path),
            "invited": invited,
        },
    )
    response["Cache-Control"] = "no-store"
    return response
