"""What the simulator answers: replies, DeerAPI's error bodies, and the faults tests inject."""

from __future__ import annotations

import json
import socket
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
