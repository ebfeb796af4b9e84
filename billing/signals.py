"""Signals of billing.

`budget_alert_raised(alert=BudgetAlert)`: a threshold of a budget was reached, sent inside the
transaction that recorded it (once per subject, threshold and period). Receivers tell people;
whatever they send outside the database they enqueue with transaction.on_commit.
"""

from django.dispatch import Signal

budget_alert_raised = Signal()
