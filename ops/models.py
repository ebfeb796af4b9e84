"""Heartbeats and task failures, read by /healthz."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """When background work last ran: the beat sweep ("sweep") and the last successful
    DeerAPI poll ("poll"). One row per name, overwritten; read by /healthz."""

    name = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField()

    class Meta:
        db_table = "predictions_heartbeat"
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.at.isoformat()}"


class TaskFailure(models.Model):
    """A background task that raised: which task, the exception's class (never its text,
    which could quote a secret), the prediction it was about. Read by /healthz; rows
    older than a day are pruned by the sweep."""

    task = models.CharField(max_length=100)
    error = models.CharField(max_length=100)
    prediction_id = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "predictions_taskfailure"
        verbose_name = _("task failure")
        verbose_name_plural = _("task failures")

    def __str__(self) -> str:
        return f"{self.task} {self.error} {self.at.isoformat()}"
