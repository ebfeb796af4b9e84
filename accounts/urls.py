from django.urls import path

from . import team_views

app_name = "team"

urlpatterns = [
    path("", team_views.team, name="list"),
    path("invite/", team_views.team_invite, name="invite"),
    path("<int:pk>/", team_views.team_member, name="member"),
    path("<int:pk>/role/", team_views.team_member_role, name="role"),
    path("<int:pk>/active/", team_views.team_member_active, name="active"),
    path("<int:pk>/password-link/", team_views.team_member_password_link, name="password_link"),
]
