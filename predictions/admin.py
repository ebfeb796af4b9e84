from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Prediction, PredictionOutput, Prompt, User

admin.site.register(User, UserAdmin)


class PredictionOutputInline(admin.TabularInline):
    model = PredictionOutput
    extra = 0
    can_delete = False
    readonly_fields = ("index", "source_url", "file", "content_type", "size", "width", "height", "checksum")


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "model_id", "status", "created_at", "completed_at")
    list_filter = ("status", "model_id", "created_at")
    list_select_related = ("owner",)
    search_fields = ("deerapi_id", "prompt__text")
    date_hierarchy = "created_at"
    show_full_result_count = False
    raw_id_fields = ("owner", "prompt")
    readonly_fields = (
        "deerapi_id", "input", "error", "logs", "metrics", "remote_output", "submitted_at",
        "started_at", "completed_at", "poll_count", "attempts", "next_poll_at",
    )
    inlines = [PredictionOutputInline]


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "text", "created_at")
    list_select_related = ("owner",)
    search_fields = ("text",)
    raw_id_fields = ("owner",)
