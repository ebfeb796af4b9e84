"""`Prefer: wait`: hold a request until the prediction ends or the wait runs out.

The wait holds neither a thread nor a database connection: each read of the prediction is
a short sync_to_async call, and between reads the request awaits ops.notifier, which the
pipeline pokes after every change of a prediction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ops import notifier
from predictions.models import Prediction
from predictions.replicate import TERMINAL, prediction_as_replicate, replicate_status

MAX_WAIT = 60
_PREFER_WAIT = re.compile(r"(?:^|[,;]\s*)wait(?:\s*=\s*(\d{1,4}))?\s*(?:$|[,;])")


def prefer_wait(header: str) -> int | None:
    """Seconds `Prefer: wait` or `Prefer: wait=N` asks for (1 to 60; `wait` alone is 60), else None."""
    match = _PREFER_WAIT.search(header.strip().lower())
    if match is None:
        return None
    seconds = int(match[1]) if match[1] else MAX_WAIT
    return max(1, min(MAX_WAIT, seconds))


@dataclass(frozen=True)
class Waited:
    prediction: Prediction
    body: dict[str, Any]  # the prediction in Replicate's shape, as read

    @property
    def status_is_terminal(self) -> bool:
        return replicate_status(self.prediction.status) in TERMINAL


async def prediction_wait(owner_id: int, pk: int, seconds: float, base_url: str) -> Waited:
    """Wait until the prediction (the member's) ends, at most `seconds`; the last state read.

    Each read also shapes the answer, in the read's thread: a burst of waiters woken at once
    then answers each as soon as its own read is done, not after every read is."""

    def read() -> Waited:
        prediction = Prediction.objects.prefetch_related("outputs").get(pk=pk, owner_id=owner_id)
        return Waited(prediction, prediction_as_replicate(prediction, base_url))

    latest: list[Waited] = []
    read_released = notifier.released(read)

    async def ended() -> bool:
        latest.append(await read_released())
        return latest[-1].status_is_terminal

    await notifier.wait_until(ended, pk, seconds)
    return latest[-1]
