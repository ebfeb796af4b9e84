from django.urls import path

from . import views

app_name = "usage"

urlpatterns = [
    path("", views.usage_mine, name="mine"),
    path("team/", views.usage_team, name="team"),
    path("team/members/<int:user_id>/", views.member_quota, name="member_quota"),
    path("team/balance/refresh/", views.balance_refresh, name="balance_refresh"),
]
