"""How fast a worker's poller sends creates: with DEERWEB_PACE_CREATES on, no faster than the worker
can store what they make. Off by default: measured in a burst of 1,000, pacing cut the lag (done at
DeerAPI, not yet shown) from 4 s to about 1 s at the 95th percentile but lowered the worker's
throughput by a fifth at 2 s run times, so members waited longer in all (see the README).

A create costs little, storing its result much more (the poll that finds it done, the download,
the thumbnail, the status changes and the settlement). A burst of creates sent as fast as they
are claimed ends at DeerAPI together, a run time later, and the results then wait behind the
worker's one core for their turn (the *lag*: DeerAPI done, DeerWeb not yet showing it): 1,000
submitted at once waited 4 s at the 95th percentile. Sent at the pace the worker stores, each
result is stored as it ends, and a prediction waits in the queue instead, where canceling it
costs nothing, and DeerAPI is never handed more at once than the worker can store.

The pace is measured, per process, from the CPU each unit of the poller's work took (a thread's
own CPU time, whatever the other threads do): a create, a poll that found the prediction still
running, and a poll that ended it (stored, failed or canceled). A prediction costs a create,
its polls and its end; the worker can finish SHARE / that many a second. Until a prediction has
ended here the end's cost is not known: it is taken as COLD_RATIO creates (measured, an end cost
1.6 to 3 creates, more with large images), and the polls so far are shared among the creates,
so a first burst is paced too. Measurements fade with HALF_LIFE, so the pace follows a change of
models or image sizes.
Creates are sent in bursts of up to BURST_SECONDS of the pace (at least BURST_MIN), so a
member's single prediction is never held.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

# The share of one core the worker's Python gets for predictions (one process: one core at most,
# less the claiming, Celery's own threads, and what PostgreSQL or the web take on a shared host).
SHARE = 0.95

# An end's cost, in creates, until one has been measured.
COLD_RATIO = 4.0

# Seconds after which a measurement counts half.
HALF_LIFE = 10.0

BURST_SECONDS = 0.5

BURST_MIN = 8

# Predictions ended here before their measured cost is trusted over COLD_RATIO.
ENDS_TRUSTED = 3


class CreatePace:
    """A token bucket for one worker's creates, filled at the rate it can finish predictions.
    Thread-safe: the poller's threads record their work, its claimer asks for creates."""

    def __init__(self, *, enabled: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled  # off (DEERWEB_PACE_CREATES): measured, never held
        self._clock = clock
        self._lock = threading.Lock()
        self._decayed_at = clock()
        # Decaying sums: CPU seconds and counts of each unit of work.
        self._create_cpu = self._creates = 0.0
        self._poll_cpu = self._end_cpu = self._ends = 0.0
        self._ended = 0  # not decaying: ENDS_TRUSTED counts every end this process measured
        self._tokens = float(BURST_MIN)
        self._filled_at = clock()

    def create_done(self, cpu: float) -> None:
        with self._lock:
            self._decay()
            self._create_cpu += cpu
            self._creates += 1

    def poll_done(self, cpu: float, *, ended: bool) -> None:
        with self._lock:
            self._decay()
            if ended:
                self._end_cpu += cpu
                self._ends += 1
                self._ended += 1
            else:
                self._poll_cpu += cpu

    def cost(self) -> float | None:
        """CPU seconds a prediction costs this worker, or None before any create was measured."""
        with self._lock:
            return self._cost()

    def rate(self) -> float | None:
        """Creates a second this worker keeps up with; None: not measured yet (no limit)."""
        with self._lock:
            return self._rate()

    def paced(self) -> bool:
        """Whether creates are held to a measured rate now (on, and a create was measured)."""
        return self.enabled and self.rate() is not None

    def take(self, wanted: int) -> int:
        """How many of `wanted` creates may be sent now; those not sent go back with `give_back`."""
        with self._lock:
            rate = self._rate()
            if rate is None or not self.enabled:
                return wanted
            now = self._clock()
            burst = max(float(BURST_MIN), rate * BURST_SECONDS)
            self._tokens = min(burst, self._tokens + (now - self._filled_at) * rate)
            self._filled_at = now
            granted = min(wanted, math.floor(self._tokens))
            self._tokens -= granted
            return granted

    def give_back(self, unused: int) -> None:
        if unused > 0:
            with self._lock:
                self._tokens += unused

    def _cost(self) -> float | None:
        if not self._creates:
            return None
        create = self._create_cpu / self._creates
        if self._ended < ENDS_TRUSTED:  # the polls so far (of long runs) count, shared by the creates
            return create * (1 + COLD_RATIO) + self._poll_cpu / self._creates
        return create + (self._poll_cpu + self._end_cpu) / self._ends

    def _rate(self) -> float | None:
        cost = self._cost()
        return SHARE / cost if cost else None

    def _decay(self) -> None:
        now = self._clock()
        elapsed = now - self._decayed_at
        if elapsed < 1.0:
            return
        keep = 0.5 ** (elapsed / HALF_LIFE)
        self._create_cpu *= keep
        self._creates *= keep
        self._poll_cpu *= keep
        self._end_cpu *= keep
        self._ends *= keep
        self._decayed_at = now
