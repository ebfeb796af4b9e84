"""The team page, for admins: members and their roles, invites, deactivation, password links."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import accounts, roles, selectors
from .models import User
from .roles import AuthedHttpRequest
from .team_forms import InviteForm, RoleForm

PAGE_SIZE = 50


@roles.role_required(roles.is_admin)
@require_GET
def team(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.team_members(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(user, roles.ROLE_LABELS[roles.role_of(user)]) for user in page.object_list]
    return render(request, "team/list.html", {"page": page, "rows": rows})


@roles.role_required(roles.is_admin)
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


@roles.role_required(roles.is_admin)
@require_GET
def team_member(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User.objects.prefetch_related("groups"), pk=pk)
    role = roles.role_of(member)
    context = {
        "member": member,
        "role": roles.ROLE_LABELS[role],
        "role_form": RoleForm(initial={"role": role}),
        "history": selectors.audit_entries(target_type=User._meta.label_lower, target_id=str(member.pk))[:20],
    }
    return render(request, "team/member.html", context)


@roles.role_required(roles.is_admin)
@require_POST
def team_member_role(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
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
            % {"name": member.get_username(), "role": roles.ROLE_LABELS[form.cleaned_data["role"]]},
        )
    return redirect("team:member", pk=member.pk)


@roles.role_required(roles.is_admin)
@require_POST
def team_member_active(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
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


@roles.role_required(roles.is_admin)
@require_POST
def team_member_password_link(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
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
