"""The simulator's state: predictions whose status follows the clock, and request counters.

Plain data with no locking of its own except `Stats`; the server holds its lock
around every use of a `SimulatedPrediction`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TERMINAL = frozenset({"succeeded", "failed", "canceled"})


def iso_utc(wall: float) -> str:
    """ISO 8601 UTC with milliseconds and a Z, as DeerAPI writes it."""
    moment = datetime.fromtimestamp(wall, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Stats:
    """Request counters, safe to read from any thread.

    Every counter except `creates` counts requests received, whatever they were
    answered: `creates` counts predictions actually recorded (dropped creates
    included). `requests` counts every API and file request; the `/_simulator/`
    control routes count nowhere. `injected` counts the random faults met, by "route:kind".
    """

    FIELDS = (
        "creates",
        "create_requests",
        "gets",
        "cancels",
        "file_downloads",
        "model_lists",
        "faults",
        "requests",
        "webhooks_sent",
        "webhooks_failed",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.creates = 0
            self.create_requests = 0
            self.gets = 0
            self.cancels = 0
            self.file_downloads = 0
            self.model_lists = 0
            self.faults = 0
            self.requests = 0
            self.webhooks_sent = 0
            self.webhooks_failed = 0
            self._injected: dict[str, int] = {}
            self._per_prediction_gets: dict[str, int] = {}

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def add_get(self, prediction_id: str) -> None:
        with self._lock:
            self.gets += 1
            self._per_prediction_gets[prediction_id] = self._per_prediction_gets.get(prediction_id, 0) + 1

    def add_injected(self, name: str) -> None:
        with self._lock:
            self._injected[name] = self._injected.get(name, 0) + 1

    @property
    def injected(self) -> dict[str, int]:
        """A copy: random faults met, by "route:kind"."""
        with self._lock:
            return dict(self._injected)

    @property
    def per_prediction_gets(self) -> dict[str, int]:
        """A copy: how many GETs each prediction id received."""
        with self._lock:
            return dict(self._per_prediction_gets)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            data: dict[str, Any] = {name: getattr(self, name) for name in self.FIELDS}
            data["per_prediction_gets"] = dict(self._per_prediction_gets)
            data["injected"] = dict(self._injected)
        return data

    def __repr__(self) -> str:
        counters = ", ".join(f"{name}={getattr(self, name)}" for name in self.FIELDS)
        return f"Stats({counters})"


@dataclass(frozen=True)
class FetchedInput:
    """An input file the simulator read from its URL, as DeerAPI does (Simulator.fetch_inputs):
    the HTTP status (0: no answer), and the body's content type and SHA-256."""

    url: str
    status: int
    content_type: str = ""
    sha256: str = ""


@dataclass(frozen=True, eq=False)
class HeldRequest:
    """A request a delay fault holds unanswered (Simulator.held): its route, path and the
    client's (address, port), by which a test finds the process waiting for the answer."""

    route: str
    path: str
    client: tuple[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"route": self.route, "path": self.path, "client": list(self.client)}


@dataclass
class SimulatedPrediction:
    """One prediction. Its status is computed from the monotonic clock, never stored."""

    id: str
    model: str
    input: dict[str, Any]
    output_shape: str
    seed: int
    output_count: int
    extension: str
    width: int
    height: int
    quality: int
    steps: int
    created_wall: float
    created_mono: float
    starting_seconds: float
    processing_seconds: float
    file_ttl: float
    error: str | None = None
    canceled_mono: float | None = None
    expired: bool = False
    progress_bars: bool = True  # LOG_MODES: tqdm bars in the logs, or none
    full_size: bool = False  # OUTPUT_SIZES: files at `width`×`height` as heavy as real pictures
    webhook: str | None = None  # where its end is POSTed (the "sent" webhook mode), once
    webhook_sent: bool = False

    @property
    def prompt(self) -> str:
        prompt = self.input.get("prompt")
        return prompt if isinstance(prompt, str) else ""

    @property
    def started_mono(self) -> float:
        return self.created_mono + self.starting_seconds

    @property
    def finished_mono(self) -> float:
        return self.started_mono + self.processing_seconds

    @property
    def canceled_before_start(self) -> bool:
        return self.canceled_mono is not None and self.canceled_mono < self.started_mono

    @property
    def status(self) -> str:
        return self.status_at(time.monotonic())

    def status_at(self, now: float) -> str:
        if self.canceled_mono is not None:
            return "canceled"
        if now < self.started_mono:
            return "starting"
        if now < self.finished_mono:
            return "processing"
        return "failed" if self.error else "succeeded"

    def ended_mono(self, now: float) -> float | None:
        """When it became terminal (monotonic), or None while it runs."""
        if self.canceled_mono is not None:
            return self.canceled_mono
        return self.finished_mono if now >= self.finished_mono else None

    def wall(self, mono: float) -> float:
        return self.created_wall + (mono - self.created_mono)

    def data_removed_at(self, now: float) -> bool:
        ended = self.ended_mono(now)
        return ended is not None and (self.expired or now >= ended + self.file_ttl)

    def file_names(self) -> list[str]:
        return [f"out-{index}.{self.extension}" for index in range(self.output_count)]

    def _logs(self, now: float, status: str) -> str:
        if status == "starting" or self.canceled_before_start:
            return ""
        lines = [f"Using seed: {self.seed}", "Running prediction"]
        if self.progress_bars:
            lines += self._bars(now)
        if status == "succeeded":
            lines.append(f"Total safe images: {self.output_count} out of {self.output_count}")
        elif status == "failed":
            lines.append(f"Error: {self.error}")
        elif status == "canceled":
            lines.append("Prediction canceled")
        return "\n".join(lines) + "\n"

    def _bars(self, now: float) -> list[str]:
        """A tqdm line per denoising step done so far, as Replicate's image models print."""
        lines = []
        until = min(now, self.finished_mono)
        if self.canceled_mono is not None:
            until = min(until, self.canceled_mono)
        done = self.steps
        if self.processing_seconds > 0:
            fraction = (until - self.started_mono) / self.processing_seconds
            done = max(0, min(self.steps, int(fraction * self.steps)))
        rate = self.steps / self.processing_seconds if self.processing_seconds > 0 else 0.0
        for step in range(done + 1):
            elapsed = step / rate if rate else 0.0
            remaining = (self.steps - step) / rate if rate else 0.0
            bar = "█" * (step * 10 // self.steps)
            lines.append(
                f"{step * 100 // self.steps:3d}%|{bar:<10}| {step}/{self.steps} "
                f"[{elapsed:.2f}s<{remaining:.2f}s, {rate:.2f}it/s]"
            )
        return lines

    def to_json(self, now: float, base_url: str) -> dict[str, Any]:
        """The Replicate prediction object as DeerAPI relays it."""
        status = self.status_at(now)
        data: dict[str, Any] = {
            "id": self.id,
            "model": self.model,
            "version": "hidden",
            "input": self.input,
            "logs": self._logs(now, status),
            "output": None,
            "data_removed": False,
            "error": None,
            "source": "api",
            "status": status,
            "created_at": iso_utc(self.created_wall),
            "urls": {
                "get": f"https://api.replicate.com/v1/predictions/{self.id}",
                "cancel": f"https://api.replicate.com/v1/predictions/{self.id}/cancel",
                "stream": f"https://stream.replicate.com/v1/files/{self.id}",
                "web": f"https://replicate.com/p/{self.id}",
            },
        }
        started = status != "starting" and not self.canceled_before_start
        if started:
            data["started_at"] = iso_utc(self.wall(self.started_mono))
        ended = self.ended_mono(now)
        if ended is None:
            return data
        data["completed_at"] = iso_utc(self.wall(ended))
        predict_time = max(0.0, ended - self.started_mono) if started else 0.0
        data["metrics"] = {
            "predict_time": round(predict_time, 6),
            "total_time": round(ended - self.created_mono, 6),
        }
        if status == "failed":
            data["error"] = self.error
        if status == "succeeded":
            data["metrics"]["image_count"] = self.output_count
            urls = [f"{base_url}/files/{self.id}/{name}" for name in self.file_names()]
            data["output"] = urls if self.output_shape == "list" else urls[0]
        if self.data_removed_at(now):
            data["output"] = None
            data["data_removed"] = True
        return data


def steps_for(spec_fields: dict[str, Any], data: dict[str, Any]) -> int:
    """How many denoising steps the progress logs show."""
    for name in ("num_inference_steps", "steps"):
        value = data.get(name, spec_fields.get(name))
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return min(value, 100)
    return 20
