from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notifications_list, name="list"),
    path("read/", views.notifications_read, name="read"),
]
