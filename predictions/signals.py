"""What the pipeline announces, for the apps above it to react to."""

from django.dispatch import Signal

# A prediction reached an end (succeeded, failed, canceled or unknown), sent inside the
# transaction that ends it, after its settlement. Arguments: `prediction` (the row as
# locked and settled) and `status` (the new status). A receiver that raises rolls the
# end back with it, so a receiver must only do what belongs in that transaction.
prediction_finished = Signal()
