"""The review decisions as bulk actions of the predictions admin, added to it in
ReviewsConfig.ready(): approve, and reject with a reason asked on an intermediate page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from predictions.admin import ACTION_LIMIT
from predictions.models import Prediction
from reviews import services as reviews
from reviews.forms import AdminRejectForm


def _ids(queryset: QuerySet[Prediction]) -> list[int]:
    return list(queryset.order_by().values_list("pk", flat=True)[:ACTION_LIMIT])


def _report(modeladmin: admin.ModelAdmin, request: HttpRequest, ids: list[int], decided: list[int], done: str) -> None:
    modeladmin.message_user(request, done % {"n": len(decided)}, messages.SUCCESS if decided else messages.WARNING)
    if len(decided) < len(ids):
        modeladmin.message_user(
            request,
            ngettext(
                "%(n)d was not changed: only succeeded predictions can be reviewed, and a decision is made once "
                "(or revised from the other decision).",
                "%(n)d were not changed: only succeeded predictions can be reviewed, and a decision is made once "
                "(or revised from the other decision).",
                len(ids) - len(decided),
            )
            % {"n": len(ids) - len(decided)},
            messages.WARNING,
        )


@admin.action(description=_("Approve selected predictions"), permissions=["review"])
def approve_selected(modeladmin, request, queryset):
    ids = _ids(queryset)
    decided = reviews.review_approve_many(ids, by=request.user, revise=True)
    _report(
        modeladmin,
        request,
        ids,
        decided,
        ngettext("Approved %(n)d prediction.", "Approved %(n)d predictions.", len(decided)),
    )


@admin.action(description=_("Reject selected predictions…"), permissions=["review"])
def reject_selected(modeladmin, request, queryset):
    """Asks for the reason on an intermediate page, then rejects."""
    form = AdminRejectForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        ids = _ids(queryset)
        decided = reviews.review_reject_many(ids, by=request.user, reason=form.cleaned_data["reason_text"], revise=True)
        _report(
            modeladmin,
            request,
            ids,
            decided,
            ngettext("Rejected %(n)d prediction.", "Rejected %(n)d predictions.", len(decided)),
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Reject predictions"),
        "opts": modeladmin.model._meta,
        "form": form,
        "queryset": queryset[:ACTION_LIMIT],
        "count": min(queryset.count(), ACTION_LIMIT),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
    }
    return TemplateResponse(request, "admin/reviews/reject_selected.html", context)


def prediction_admin_extend() -> None:
    """Add the review actions to the predictions admin (its `has_review_permission` guards them)."""
    model_admin = admin.site.get_model_admin(Prediction)
    model_admin.actions = [*(model_admin.actions or ()), approve_selected, reject_selected]
