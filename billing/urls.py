from django.urls import path

from . import usage_views

app_name = "usage"

urlpatterns = [
    path("", usage_views.usage_mine, name="mine"),
    path("team/", usage_views.usage_team, name="team"),
    path("team/members/<int:user_id>/", usage_views.member_quota, name="member_quota"),
    path("team/balance/refresh/", usage_views.balance_refresh, name="balance_refresh"),
]
