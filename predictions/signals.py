"""What the pipeline announces, for the apps above it to react to."""

from django.dispatch import Signal

# A prediction reached an end (succeeded, failed, canceled or unknown), sent inside the
# transaction that ends it, after its settlement. Arguments: `prediction` (the row as
# locked and settled) and `status` (the new status). A receiver that raises rolls the
# end back with it, so a receiver must only do what belongs in that transaction.
prediction_finished = Signal()

# A prediction changed: its status moved (sent by services.prediction_transition after the
# move, inside its transaction when it is in one), or a poll brought new logs (sent by the
# pipeline once they are saved, with `logs_changed=True`). Arguments: `prediction_id`,
# `status` (the status it has now), `logs_changed`, and `via` (how it entered DeerWeb, `web` or
# `api`; None when the sender does not have it at hand). Sent for every move, the final one
# too (after `prediction_finished`). Receivers must be cheap (one indexed query when there
# is nothing to do) and must not raise: they run inside the pipeline's transactions.
prediction_changed = Signal()
