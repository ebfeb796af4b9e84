from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from . import quotas


def deerweb(request: HttpRequest) -> dict[str, object]:
    """`sandbox`, and `member_budget`: the member's budget and DeerAPI's health flags
    (`quotas.BudgetStatus`, or None when logged out). `member_budget` is lazy, so a
    page that does not show it (a live refresh, the admin site) runs no query."""

    def budget() -> quotas.BudgetStatus | None:
        user = getattr(request, "user", None)
        return quotas.budget_status(user) if user is not None and user.is_authenticated else None

    return {"sandbox": settings.SANDBOX, "member_budget": SimpleLazyObject(budget)}
