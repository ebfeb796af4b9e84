"""When a running prediction should finish, read from the progress bars in its logs.

Replicate's image models print a tqdm bar per denoising step, and DeerAPI relays the logs:

     50%|█████     | 2/4 [00:01<00:01,  1.95it/s]      (tqdm)
     50%|█████     | 2/4 [0.77s<0.77s, 2.60it/s]        (the same with fractional seconds)

DeerWeb polls a prediction once more at about the time its bar predicts, rather than every
second: fewer requests to DeerAPI, and the poll that finds it done comes soon after it is.
Pure functions, no Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

# "<done>/<total> [<elapsed><<remaining>, <rate>]"; a bar's other parts vary between versions.
_BAR = re.compile(
    r"(?P<done>\d{1,6})/(?P<total>\d{1,6})\s*\[(?P<elapsed>[^<\]]*)<(?P<remaining>[^,\]]*),\s*(?P<rate>[^\]]*)\]"
)
_RATE = re.compile(r"^\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>it/s|s/it)\s*$")
_CLOCK = re.compile(r"^\s*(?:(?:(?P<h>\d+):)?(?P<m>\d+):)?(?P<s>\d+(?:\.\d+)?)s?\s*$")


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    elapsed: float  # seconds of processing when step `done` was reached
    step_seconds: float  # seconds per step


def _seconds(text: str) -> float | None:
    """tqdm's "01:02" or "1:01:02", or "3.25s"; None for "?" and anything else."""
    match = _CLOCK.match(text)
    if not match:
        return None
    return int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + float(match["s"])


def progress_parse(logs: str) -> Progress | None:
    """The last progress bar in `logs` that shows a speed; None without one."""
    for match in reversed(list(_BAR.finditer(logs[-4000:] if logs else ""))):
        done, total = int(match["done"]), int(match["total"])
        rate = _RATE.match(match["rate"])
        elapsed = _seconds(match["elapsed"])
        if not total or done > total or not rate or elapsed is None:
            continue
        value = float(rate["value"])
        if value <= 0:
            continue
        step_seconds = 1 / value if rate["unit"] == "it/s" else value
        return Progress(done=done, total=total, elapsed=elapsed, step_seconds=step_seconds)
    return None


def progress_remaining(logs: str, started_at: datetime | None, now: datetime) -> float | None:
    """Seconds until the last step ends, as the progress bar predicts; None if it cannot tell.

    The bar was printed when step `done` was reached; time has passed since. DeerAPI's
    `started_at` says how much, but comes from another clock, so that correction is held
    within one step: a skewed clock makes the estimate at most one step early or late.
    """
    progress = progress_parse(logs)
    if progress is None:
        return None
    remaining = (progress.total - progress.done) * progress.step_seconds
    if started_at is not None:
        since_step = (now - started_at).total_seconds() - progress.elapsed
        remaining -= min(max(since_step, 0.0), progress.step_seconds)
    return max(remaining, 0.0)
