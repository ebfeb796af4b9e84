"""Telling people a budget threshold was reached: a notification in DeerWeb (in the transaction
that recorded the alert), then an email and a Slack post (Celery tasks enqueued on commit).

Who is told: a member's thresholds go to the member (their own spending: admins follow members
on the team usage page and in the Slack channel); the team budget's go to every active admin.
The Slack channel, when there is one, gets every alert.

Each task may run more than once (a retry after a worker died mid-way): the record of the alert
is unique per subject, threshold and period, so a person gets at most one alert per threshold
and period, apart from such a rare retry of an email.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from alerts import services
from billing import services as billing
from billing.models import AlertSubject, BudgetAlert
from common import permissions
from notifications import messages as notification_messages
from notifications import services as notifications
from webhooks import sending, targets

logger = logging.getLogger(__name__)


class SlackPostFailed(Exception):
    """A post the receiver did not take but may take later (no answer, 429, 5xx): retried."""


def admin_ids() -> list[int]:
    """Active admins: superusers and members given the team-management permission (by group or alone)."""
    users = get_user_model().objects.with_perm(
        permissions.MANAGE_TEAM, backend="django.contrib.auth.backends.ModelBackend"
    )
    return sorted(users.values_list("pk", flat=True))


def recipient_ids(alert: BudgetAlert) -> list[int]:
    if alert.subject == AlertSubject.MEMBER and alert.user_id is not None:
        return [alert.user_id]
    return admin_ids()


def _params(alert: BudgetAlert) -> dict[str, Any]:
    """The alert's values as a notification keeps them: amounts as text, the period's end in ISO 8601
    (shown in the reader's format: notifications.messages)."""
    return {
        "threshold": alert.threshold,
        "spent": billing.format_usd(alert.spent),
        "budget": billing.format_usd(alert.budget),
        "resets": alert.period_end.isoformat(),
    }


def _kind(alert: BudgetAlert) -> str:
    return (
        notification_messages.BUDGET_MEMBER
        if alert.subject == AlertSubject.MEMBER
        else notification_messages.BUDGET_TEAM
    )


def budget_alert_received(sender: Any, alert: BudgetAlert, **kwargs: Any) -> None:
    """billing's `budget_alert_raised`: the notifications now, the email and Slack post once committed."""
    url = reverse("usage:team") if alert.subject == AlertSubject.TEAM else reverse("usage:mine")
    notifications.notifications_create(
        recipient_ids(alert), _kind(alert), _params(alert), url=url, now=alert.created_at
    )
    from alerts import tasks  # the tasks module imports this one

    alert_id = alert.pk
    transaction.on_commit(lambda: tasks.budget_alert_email.delay(alert_id))
    transaction.on_commit(lambda: tasks.budget_alert_slack.delay(alert_id))


@dataclass(frozen=True)
class Mail:
    to: str
    language: str


def _mails(alert: BudgetAlert) -> list[Mail]:
    """One email per recipient with an address; members without one are told in DeerWeb only."""
    rows = (
        get_user_model().objects.filter(pk__in=recipient_ids(alert)).exclude(email="").values_list("email", flat=True)
    )
    language = alert.language if alert.subject == AlertSubject.MEMBER and alert.language else settings.LANGUAGE_CODE
    return [Mail(to=address, language=language) for address in rows]


def _subject(alert: BudgetAlert) -> str:
    if alert.subject == AlertSubject.MEMBER:
        return _("DeerWeb: your spending reached %(threshold)s%% of your budget") % {"threshold": alert.threshold}
    return _("DeerWeb: the team's spending reached %(threshold)s%% of its budget") % {"threshold": alert.threshold}


def budget_alert_email(alert_id: int) -> int:
    """Email the alert's recipients, each in their language; returns how many were sent."""
    alert = BudgetAlert.objects.filter(pk=alert_id).first()
    if alert is None:
        return 0
    link = settings.WEBHOOK_BASE_URL + (
        reverse("usage:team") if alert.subject == AlertSubject.TEAM else reverse("usage:mine")
    )
    mails = []
    for mail in _mails(alert):
        with translation.override(mail.language):
            body = "\n\n".join(
                [
                    notification_messages.notification_text(_kind(alert), _params(alert)),
                    _("Your usage page: %(url)s") % {"url": link},
                    _("DeerWeb sends this once per threshold and period. The thresholds are in the team settings."),
                ]
            )
            mails.append(EmailMessage(_subject(alert), body, settings.DEFAULT_FROM_EMAIL, [mail.to]))
    if mails:
        with get_connection() as connection:
            connection.send_messages(mails)
    logger.info("budget alert=%s emailed to %d", alert_id, len(mails))
    return len(mails)


def slack_text(alert: BudgetAlert) -> str:
    """In the site's language: the channel is the team's."""
    with translation.override(settings.LANGUAGE_CODE):
        values = {**_params(alert), "resets": notification_messages.moment_text(alert.period_end.isoformat())}
        if alert.subject == AlertSubject.MEMBER:
            who = alert.user.get_username() if alert.user else "?"
            return _(
                "DeerWeb budget alert: %(member)s reached %(threshold)s%% of their budget (%(spent)s of %(budget)s "
                "committed; it starts again on %(resets)s)."
            ) % {**values, "member": who}
        return (
            _(
                "DeerWeb budget alert: the team reached %(threshold)s%% of its monthly budget (%(spent)s of "
                "%(budget)s committed; it starts again on %(resets)s)."
            )
            % values
        )


def budget_alert_slack(alert_id: int) -> bool:
    """Post the alert to the team's Slack-compatible webhook, if there is one: {"text": …}.

    Returns True when the receiver took it (2xx), False when there is nothing to post or the
    receiver refused it for good (4xx: a wrong URL; logged). Raises SlackPostFailed when it may
    take it later. The URL is never logged: only its host is."""
    url = services.slack_url()
    alert = BudgetAlert.objects.select_related("user").filter(pk=alert_id).first()
    if not url or alert is None:
        return False
    try:
        target = targets.target_resolve(url)
    except targets.WebhookHostUnresolved:
        raise SlackPostFailed("host did not resolve") from None
    except targets.WebhookURLError:
        logger.warning("budget alert=%s not posted to Slack: its URL is no longer accepted", alert_id)
        return False
    body = json.dumps({"text": slack_text(alert)}).encode()
    answer = sending.webhook_post(target, body, {"Content-Type": "application/json"})
    if answer.status_code is not None and 200 <= answer.status_code < 300:
        logger.info("budget alert=%s posted to Slack host=%s", alert_id, target.host)
        return True
    failure = answer.error or f"HTTP {answer.status_code}"
    if answer.status_code is None or answer.status_code == 429 or answer.status_code >= 500:
        logger.warning("budget alert=%s Slack post failed host=%s error=%s: will retry", alert_id, target.host, failure)
        raise SlackPostFailed(failure)
    logger.warning("budget alert=%s Slack post refused host=%s error=%s", alert_id, target.host, failure)
    return False
