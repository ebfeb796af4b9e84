"""The team page (/team/), a member's own password and API tokens, and the one-time
set-password links admins hand out (/accounts/)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import views

team_patterns = (
    [
        path("", views.team, name="list"),
        path("invite/", views.team_invite, name="invite"),
        path("<int:pk>/", views.team_member, name="member"),
        path("<int:pk>/role/", views.team_member_role, name="role"),
        path("<int:pk>/active/", views.team_member_active, name="active"),
        path("<int:pk>/password-link/", views.team_member_password_link, name="password_link"),
    ],
    "team",
)


account_patterns = (
    [
        path(
            "password/",
            auth_views.PasswordChangeView.as_view(
                template_name="registration/password_change.html",
                success_url=reverse_lazy("accounts:password_changed"),
            ),
            name="password_change",
        ),
        path(
            "password/changed/",
            auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_changed.html"),
            name="password_changed",
        ),
        path("tokens/", views.api_tokens, name="tokens"),
        path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="token_revoke"),
        path(
            "set-password/<uidb64>/<token>/",
            auth_views.PasswordResetConfirmView.as_view(
                template_name="registration/password_set.html",
                success_url=reverse_lazy("accounts:password_set_done"),
            ),
            name="password_set",
        ),
        path(
            "set-password/done/",
            auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_set_done.html"),
            name="password_set_done",
        ),
    ],
    "accounts",
)
