"""What the simulator answers: replies, DeerAPI's error bodies, and the faults tests inject."""

from __future__ import annotations

import json
import random
import socket
import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

MALFORMED_BODY = b'{"id": "trunc'


JSON = "application/json"


PROBLEM_JSON = "application/problem+json"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def deerapi_error(message: str, *, type: str = "new_api_error", code: str = "") -> dict[str, Any]:
    """DeerAPI's own (new-api) error shape."""
    return {"error": {"message": message, "type": type, "code": code}}


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False
    junk_size: int = 0  # serve this many bytes of PNG-looking junk instead of `body`

    @classmethod
    def json(cls, status: int, data: Any, *, content_type: str = JSON, **kwargs: Any) -> Reply:
        body = json.dumps(data, ensure_ascii=False).encode()
        return cls(status, body, content_type, **kwargs)


def error_reply(status: int, message: str, *, type: str, code: str) -> Reply:
    return Reply.json(status, deerapi_error(message, type=type, code=code))


def unauthorized() -> Reply:
    return error_reply(401, "无效的令牌 (invalid token)", type="new_api_error", code="invalid_api_key")


def not_found(message: str, code: str = "not_found") -> Reply:
    return error_reply(404, message, type="invalid_request_error", code=code)


def bad_request(message: str) -> Reply:
    return error_reply(400, message, type="invalid_request_error", code="invalid_request")


def file_not_found() -> Reply:
    return Reply.json(404, {"detail": "File not found"})


@dataclass
class Fault:
    route: str
    status: int | None = None
    count: int = 1
    retry_after: float | str | None = None
    body: Any = None
    drop: bool = False
    delay: float = 0.0
    malformed: bool = False
    content_type: str | None = None
    oversize: int | None = None
    echo_key: bool = False
    dead_redirect: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value not in (None, False)}

    @property
    def refuses(self) -> bool:
        """The request is answered by the fault alone, never processed."""
        return self.status is not None or self.body is not None or self.echo_key or self.dead_redirect

    def reply(self, received_key: str = "") -> Reply:
        """The error reply for a `status`, `body` or `echo_key` fault."""
        status = self.status if self.status is not None else (401 if self.echo_key else 200)
        headers: tuple[tuple[str, str], ...] = ()
        if self.retry_after is not None:
            value = self.retry_after
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            headers = (("Retry-After", str(value)),)
        if self.echo_key:
            message = (
                f"Incorrect API key provided: {received_key}. You can find your API key at "
                f"https://api.deerapi.com/token. ({fault_message(status)})"
            )
            return Reply.json(
                status, deerapi_error(message, type="invalid_request_error", code="invalid_api_key"), headers=headers
            )
        if self.body is None:
            data = deerapi_error(fault_message(status), type="upstream_error", code="simulated")
            return Reply.json(status, data, headers=headers)
        if isinstance(self.body, bytes | str):
            raw = self.body.encode() if isinstance(self.body, str) else self.body
            try:
                json.loads(raw)
                kind = JSON
            except ValueError:
                kind = "text/plain; charset=utf-8"
            return Reply(status, raw, kind, headers)
        problem = isinstance(self.body, dict) and ("title" in self.body or "detail" in self.body)
        kind = PROBLEM_JSON if problem else JSON
        return Reply.json(status, self.body, content_type=kind, headers=headers)


# Faults met at random, each with its own rate per route (FaultRates): an HTTP 5xx answer, an answer
# later than the client waits (`timeout_seconds`), or the connection closed without an answer.
RANDOM_FAULT_KINDS = ("error", "timeout", "drop")
# A gateway's 5xx answers, drawn evenly: 503 is the one a client may take as "not taken, try again".
RANDOM_ERROR_STATUSES = (500, 502, 503, 504)


class FaultRates:
    """Faults drawn at random, for a soak: each request to a route meets one fault kind with that
    kind's rate (the kinds of a route exclude each other, so their rates sum to at most 1).

    Seeded, so a run can be repeated; thread-safe.
    """

    def __init__(self, *, seed: int | None = None, timeout_seconds: float = 35.0) -> None:
        if not timeout_seconds > 0:
            raise ValueError("timeout_seconds must be positive")
        self.timeout_seconds = float(timeout_seconds)
        self._rates: dict[str, dict[str, float]] = {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def set(self, route: str, kind: str, rate: float) -> None:
        if kind not in RANDOM_FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(RANDOM_FAULT_KINDS)}")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError("a fault rate is a number from 0 to 1")
        with self._lock:
            rates = {**self._rates.get(route, {}), kind: float(rate)}
            if sum(rates.values()) > 1:
                raise ValueError(f"the fault rates of route {route!r} sum to more than 1")
            self._rates[route] = {name: value for name, value in rates.items() if value}

    def as_dict(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {route: dict(rates) for route, rates in self._rates.items() if rates}

    def draw(self, route: str) -> tuple[str, Fault] | None:
        """The fault this request to `route` meets, with its kind; None for most."""
        with self._lock:
            rates = self._rates.get(route)
            if not rates:
                return None
            roll = self._random.random()
            for kind in RANDOM_FAULT_KINDS:
                rate = rates.get(kind, 0.0)
                if roll < rate:
                    if kind == "error":
                        return kind, Fault(route, status=self._random.choice(RANDOM_ERROR_STATUSES))
                    if kind == "timeout":
                        return kind, Fault(route, delay=self.timeout_seconds)
                    return kind, Fault(route, drop=True)
                roll -= rate
        return None


def parse_fault_rates(specs: list[str]) -> dict[str, dict[str, float]]:
    """`["create:drop=0.01", "get:error=0.02"]` (a command line's `--fault-rate`s) as {route: {kind: rate}}."""
    rates: dict[str, dict[str, float]] = {}
    for spec in specs:
        where, _, value = spec.partition("=")
        route, _, kind = where.partition(":")
        try:
            rate = float(value)
        except ValueError:
            raise ValueError(f"expected ROUTE:KIND=RATE such as create:drop=0.01, got {spec!r}") from None
        if not route or not kind:
            raise ValueError(f"expected ROUTE:KIND=RATE such as create:drop=0.01, got {spec!r}")
        rates.setdefault(route, {})[kind] = rate
    return rates


def dead_address() -> str:
    """http://127.0.0.1:<port> where nothing listens (a port the system just gave out and took back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def fault_message(status: int) -> str:
    if status == 402:
        return "用户额度不足 (insufficient user quota)"
    if status == 429:
        return "Request was throttled. Expected available in 1 second. (simulated)"
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = f"HTTP {status}"
    return f"{phrase} (simulated)"
