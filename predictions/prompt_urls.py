from django.urls import path

from . import prompt_views

app_name = "prompts"

urlpatterns = [
    path("", prompt_views.prompt_list, name="list"),
    path("save/", prompt_views.prompt_save_from_prediction, name="save_from_prediction"),
    path("<int:pk>/", prompt_views.prompt_detail, name="detail"),
    path("<int:pk>/rename/", prompt_views.prompt_rename, name="rename"),
    path("<int:pk>/remove/", prompt_views.prompt_forget, name="forget"),
]
