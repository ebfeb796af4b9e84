"""The team page, for admins: members and their roles, invites, deactivation, password links;
and every member's own API tokens page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import roles, tokens
from accounts import selectors as accounts_selectors
from accounts import services as accounts
from accounts.forms import ApiTokenForm, InviteForm, RoleForm
from audit import selectors as audit_selectors
from common import permissions
from common.permissions import AuthedHttpRequest
from common.requests import form_nonce_issue, form_nonce_spent

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


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: AuthedHttpRequest) -> HttpResponse:
    """A member's API tokens and the form for a new one; an admin also sees everyone else's.

    A new token is shown on the page that answers the form, and nowhere else: not in a
    redirect's URL, not in the session, and the page is not cached."""
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST":
        if not form_nonce_spent(request, FORM_NONCE):
            # The answer to this form was shown already: a reload or Back must not make another token.
            messages.info(
                request,
                _("That form was sent already: its token was created and shown once. Create another one below."),
            )
            return redirect("accounts:tokens")
        if form.is_valid():
            try:
                token, raw = tokens.token_create(
                    request.user,
                    form.cleaned_data["name"],
                    read_only=form.cleaned_data["read_only"],
                    expires_at=form.expires_at(timezone.now()),
                    by=request.user,
                )
            except tokens.TokenError as exc:
                form.add_error(None, exc.message)
            else:
                response = render(request, "tokens/created.html", {"token": token, "raw": raw})
                response["Cache-Control"] = "no-store"
                return response
        return _api_tokens_page(request, form, status=400)
    return _api_tokens_page(request, form)


FORM_NONCE = "api_token_form_nonce"


def _api_tokens_page(request: AuthedHttpRequest, form: ApiTokenForm, *, status: int = 200) -> HttpResponse:
    nonce = form_nonce_issue(request, FORM_NONCE)
    context = {
        "form": form,
        "form_nonce": nonce,
        "own": accounts_selectors.api_tokens(request.user),
        "team_page": None,
    }
    if permissions.is_admin(request.user):
        others = accounts_selectors.api_tokens().exclude(user=request.user)
        context["team_page"] = Paginator(others, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tokens/list.html", context, status=status)


@login_required
@require_POST
def api_token_revoke(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your own tokens, or as an admin anyone's (someone else's is not found)."""
    visible = accounts_selectors.api_tokens(None if permissions.is_admin(request.user) else request.user)
    token = get_object_or_404(visible, pk=pk)
    if tokens.token_revoke(token, by=request.user):
        messages.success(request, _("The token “%(name)s” is revoked: it no longer works.") % {"name": token.name})
    return redirect("accounts:tokens")
