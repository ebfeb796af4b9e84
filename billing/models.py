"""Quotas, team settings and the append-only ledger of what members spend."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Period(models.TextChoices):
    DAY = "day", _("Daily")
    WEEK = "week", _("Weekly")
    MONTH = "month", _("Monthly")
    NONE = "none", _("No budget (unlimited)")


def default_alert_thresholds() -> list[int]:
    return [80, 100]


class MemberQuota(models.Model):
    """A member's limits. Missing means the team defaults apply."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quota")
    budget = models.DecimalField(
        _("budget per period (USD)"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Empty: unlimited."),
    )
    period = models.CharField(_("period"), max_length=10, choices=Period.choices, default=Period.MONTH)
    max_in_flight = models.PositiveIntegerField(
        _("predictions in flight at most"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    allowed_models = models.JSONField(
        _("allowed models"), default=list, blank=True, help_text=_("Empty: every enabled model.")
    )
    auto_approve = models.BooleanField(_("approve automatically"), default=False)
    alert_thresholds = models.JSONField(
        _("budget alerts at (percent of the budget)"),
        null=True,
        blank=True,
        help_text=_("Empty: the team's thresholds for members."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "predictions_memberquota"
        verbose_name = _("member quota")
        verbose_name_plural = _("member quotas")

    def __str__(self) -> str:
        return f"quota of {self.user_id}"


class TeamSettings(models.Model):
    """One row (pk=1): team-wide defaults, limits and DeerAPI health flags."""

    default_budget = models.DecimalField(
        _("default budget per period (USD)"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("For members without their own quota. Empty: unlimited."),
    )
    default_period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTH)
    default_max_in_flight = models.PositiveIntegerField(null=True, blank=True)
    team_monthly_budget = models.DecimalField(
        _("team budget per month (USD)"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Empty: unlimited."),
    )
    alert_thresholds = models.JSONField(
        _("members' budget alerts at (percent of their budget)"),
        default=default_alert_thresholds,
        help_text=_("For members without thresholds of their own."),
    )
    team_alert_thresholds = models.JSONField(
        _("team budget alerts at (percent of the team budget)"), default=default_alert_thresholds
    )
    embed_download_metadata = models.BooleanField(
        _("downloads carry their metadata"),
        default=True,
        help_text=_(
            "A downloaded image carries its prompt, inputs, seed, model and member in its file. "
            "Turn off for privacy: downloads are then the files exactly as stored."
        ),
    )
    # Set when DeerAPI says its balance is exhausted or the key is rejected;
    # cleared by the next prediction DeerAPI accepts. Admins see a banner meanwhile.
    deerapi_balance_empty_since = models.DateTimeField(null=True, blank=True)
    deerapi_key_rejected_since = models.DateTimeField(null=True, blank=True)
    # --- DeerAPI's own account: a snapshot of GET /user/quota, taken by a
    # beat task so no page ever waits on DeerAPI. `deerapi_recorded` is DeerWeb's
    # recorded cost at the same moment; the baseline is the first snapshot, so use
    # of the account before DeerWeb is left out of the comparison.
    deerapi_checked_at = models.DateTimeField(_("DeerAPI balance read at"), null=True, blank=True)
    deerapi_username = models.CharField(max_length=150, blank=True, default="")
    deerapi_balance = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    deerapi_used = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    deerapi_request_count = models.PositiveBigIntegerField(null=True, blank=True)
    deerapi_keys = models.JSONField(default=list, blank=True)
    deerapi_recorded = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    deerapi_baseline_at = models.DateTimeField(null=True, blank=True)
    deerapi_baseline_used = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    deerapi_baseline_recorded = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    deerapi_check_error = models.CharField(max_length=300, blank=True, default="")
    deerapi_check_failed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "predictions_teamsettings"
        verbose_name = _("team settings")
        verbose_name_plural = _("team settings")

    def __str__(self) -> str:
        return "team settings"

    @classmethod
    def load(cls) -> TeamSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class LedgerKind(models.TextChoices):
    RESERVE = "reserve", _("Reserved at submit")
    SETTLE = "settle", _("Settled to the actual cost")
    REFUND = "refund", _("Refunded")
    ADJUSTMENT = "adjustment", _("Adjusted by an admin")


class LedgerEntry(models.Model):
    """One change to what a member has spent. Positive amounts spend, negative give back.

    Spending in a period is the sum of the entries in it; nothing is edited in place.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger")
    prediction = models.ForeignKey(
        "predictions.Prediction", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger"
    )
    kind = models.CharField(max_length=12, choices=LedgerKind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    model_id = models.CharField(max_length=200, blank=True, default="")
    reason = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "predictions_ledgerentry"
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["model_id", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} for {self.user_id}"


class AlertSubject(models.TextChoices):
    MEMBER = "member", _("A member's budget")
    TEAM = "team", _("The team's budget")


class BudgetAlert(models.Model):
    """A threshold of a budget reached in a period: recorded once (the unique constraint), in the
    transaction that spent the money, so concurrent submissions and retried tasks alert once.

    `subject_key` is "member:<id>" or "team", so the team's row is unique without a NULL user.
    """

    subject = models.CharField(max_length=10, choices=AlertSubject.choices)
    subject_key = models.CharField(max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="budget_alerts"
    )
    threshold = models.PositiveSmallIntegerField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    budget = models.DecimalField(max_digits=12, decimal_places=4)
    spent = models.DecimalField(max_digits=12, decimal_places=4)
    # The language of the submission that reached it (empty: the site's), for the member's email.
    language = models.CharField(max_length=20, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("budget alert")
        verbose_name_plural = _("budget alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["subject_key", "threshold", "period_start"], name="budget_alert_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject_key} {self.threshold}% from {self.period_start:%Y-%m-%d}"
