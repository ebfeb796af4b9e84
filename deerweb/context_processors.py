from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from billing import deerapi_account
from billing import services as billing
from ops import health


def deerweb(request: HttpRequest) -> dict[str, object]:
    """`sandbox`; `member_budget`: the member's budget and DeerAPI's health flags
    (`billing.BudgetStatus`, or None when logged out); `deerapi_alerts`: those flags alone
    (`deerapi_account.DeerAPIAlerts`); `deerweb_health`: the health report without the broker check.
    All are lazy, so a page that does not show them runs no query."""

    def budget() -> billing.BudgetStatus | None:
        user = getattr(request, "user", None)
        return billing.budget_status(user) if user is not None and user.is_authenticated else None

    return {
        "sandbox": settings.SANDBOX,
        "member_budget": SimpleLazyObject(budget),
        # The admin site's banners: DeerAPI's flags alone, one query, only where shown.
        "deerapi_alerts": SimpleLazyObject(deerapi_account.deerapi_alerts),
        # The admin index's health banner: /healthz's checks but the broker's (a few queries).
        "deerweb_health": SimpleLazyObject(lambda: health.health_report(broker=False)),
    }
