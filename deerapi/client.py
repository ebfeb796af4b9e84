"""The one DeerAPI client.

Every call has connect and read timeouts and raises a typed error:

- `TransientError`: DeerAPI certainly did not act on the request, or a read
  failed; trying again later is safe (429, 5xx on reads, connection refused).
- `PermanentError`: the request is wrong and will stay wrong (400, 401, 403,
  404, 422, other 4xx). `AuthError` and `BalanceExhausted` refine it.
- `UncertainSubmission`: a create may have reached DeerAPI and no usable answer
  came back. Sending it again could start (and bill) a second prediction, so
  callers must not.

We never call the `urls.*` a prediction carries: they point at Replicate.

Nothing that leaves this module carries a secret: every error's message and field
messages, every exception chained to one, and every remote text DeerWeb stores
(a prediction's error and logs, the account's names) go through
`redaction.redact`, since DeerAPI may echo the key it received.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, TypedDict

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from common import http
from ops.redaction import redact

logger = logging.getLogger(__name__)

USER_AGENT = "DeerWeb/0.1 (+self-hosted image dashboard)"
MAX_LOGS = 20_000


class DeerAPIError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        field_errors: dict[str, str] | None = None,
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after
        self.field_errors = {name: redact(text) for name, text in (field_errors or {}).items()}


class TransientError(DeerAPIError):
    """Safe to try again later."""


class PermanentError(DeerAPIError):
    """Trying again will not help."""


class AuthError(PermanentError):
    """DeerAPI rejected the key (401)."""


class BalanceExhausted(PermanentError):
    """The team's DeerAPI balance is empty (402, or 403 insufficient quota)."""


class UncertainSubmission(DeerAPIError):
    """A create may have reached DeerAPI; do not send it again."""


class RedactedCause(Exception):
    """Stands for an underlying error whose text named a secret, with that text redacted."""


def _cause(exc: BaseException) -> BaseException:
    """What a DeerAPIError is chained to: `exc`, unless its text or its causes' name a secret
    (a connection error to the balance endpoint names the URL, and so the key)."""
    text = "".join(traceback.format_exception(exc))
    if redact(text) == text:
        return exc
    return RedactedCause(redact(f"{exc.__class__.__name__}: {exc}"))


@dataclass(frozen=True)
class RemotePrediction:
    id: str
    status: str
    output: list[str] = field(default_factory=list)
    error: str = ""
    logs: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    data_removed: bool = False

    @classmethod
    def from_json(cls, data: Any) -> RemotePrediction:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
            raise ValueError("the reply is not a prediction object")
        status = data.get("status")
        if not isinstance(status, str):
            raise ValueError("the prediction has no status")
        error = data.get("error")
        if isinstance(error, dict):
            error = error.get("message") or json.dumps(error)
        metrics = data.get("metrics")
        logs = data.get("logs")
        return cls(
            id=data["id"],
            status=status,
            output=normalise_output(data.get("output")),
            error=redact(str(error)) if error else "",
            # Redacted before it is cut, so no part of a secret is left at the cut.
            logs=redact(logs)[-MAX_LOGS:] if isinstance(logs, str) else "",
            metrics=metrics if isinstance(metrics, dict) else {},
            started_at=_parse_time(data.get("started_at")),
            completed_at=_parse_time(data.get("completed_at")),
            data_removed=bool(data.get("data_removed")),
        )


@dataclass(frozen=True)
class AccountBalance:
    """DeerAPI's account, from `GET /user/quota` on its query host. Amounts in USD."""

    username: str
    balance: Decimal
    used: Decimal
    request_count: int | None
    # Per key: {"name", "remain_quota", "used_quota"} as strings (-1: an unlimited key).
    keys: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> AccountBalance:
        if not isinstance(data, dict):
            raise ValueError("the reply is not an object")
        keys = []
        for item in data.get("keys") or []:
            if isinstance(item, dict):
                keys.append(
                    {
                        "name": redact(str(item.get("name") or "")),
                        "remain_quota": str(_usd(item.get("remain_quota"), "remain_quota")),
                        "used_quota": str(_usd(item.get("used_quota"), "used_quota")),
                    }
                )
        count = data.get("request_count")
        return cls(
            username=redact(str(data.get("username") or "")),
            balance=_usd(data.get("total_quota"), "total_quota"),
            used=_usd(data.get("total_used_quota"), "total_used_quota"),
            request_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
            keys=keys,
        )


def _usd(value: Any, name: str) -> Decimal:
    """An amount from JSON, exactly as written (floats go through their shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} is not a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"{name} is not a number")
    return amount


def normalise_output(output: Any) -> list[str]:
    """DeerAPI's `output` is a URL string, a list of URL strings, or null."""
    if output is None:
        return []
    if isinstance(output, str):
        return [output] if output else []
    if isinstance(output, list):
        return [item for item in output if isinstance(item, str) and item]
    return []


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def error_message(response: requests.Response) -> tuple[str, dict[str, str]]:
    """A readable message (and per-field messages) from either error shape.

    DeerAPI (new-api family): {"error": {"message", "type", "code"}}.
    Replicate (problem+json): {"title", "detail", "status", "invalid_fields"}.
    """
    fields: dict[str, str] = {}
    try:
        body = response.json()
    except ValueError:
        text = redact(response.text.strip())  # before it is cut: no part of a secret left at the cut
        return (text[:500] or f"HTTP {response.status_code}"), fields
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"]), fields
        if isinstance(err, str) and err:
            return err, fields
        for item in body.get("invalid_fields") or []:
            if isinstance(item, dict) and item.get("field"):
                name = str(item["field"]).removeprefix("input.")
                fields[name] = str(item.get("description") or item.get("type") or "invalid")
        detail = body.get("detail")
        title = body.get("title")
        if detail and title:
            return f"{title}: {str(detail).strip()}", fields
        if detail or title:
            return str(detail or title).strip(), fields
        if body.get("message"):
            return str(body["message"]), fields
    return f"HTTP {response.status_code}", fields


def _is_balance_message(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in ("quota", "insufficient", "balance")) or "额度" in message


class _ErrorDetails(TypedDict):
    status_code: int | None
    retry_after: float | None
    field_errors: dict[str, str] | None


def _raise_for_status(response: requests.Response, *, creating: bool) -> None:
    code = response.status_code
    if code < 400:
        return
    message, fields = error_message(response)
    kwargs: _ErrorDetails = {"status_code": code, "retry_after": _retry_after(response), "field_errors": fields}
    if code == 401:
        raise AuthError(_("DeerAPI key rejected: %(msg)s") % {"msg": message}, **kwargs)
    if code == 402 or (code == 403 and _is_balance_message(message)):
        raise BalanceExhausted(message, **kwargs)
    if code in (429, 503):
        raise TransientError(message, **kwargs)
    if code >= 500:
        if creating:
            # A gateway error on a create may hide a prediction that started.
            raise UncertainSubmission(
                _("DeerAPI answered %(code)d to the create: %(msg)s") % {"code": code, "msg": message}, **kwargs
            )
        raise TransientError(message, **kwargs)
    raise PermanentError(message, **kwargs)


def _connection_error_sent_nothing(exc: requests.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request went out."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


class DeerAPIClient:
    def __init__(
        self,
        base_url: str | None = None,
        key: str | None = None,
        *,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        query_url: str | None = None,
    ) -> None:
        self.base_url = (base_url or settings.DEERAPI_BASE_URL).rstrip("/")
        self.query_url = (query_url or settings.DEERAPI_QUERY_URL).rstrip("/")
        self._key = key if key is not None else settings.DEERAPI_KEY
        self.timeout = (
            settings.DEERAPI_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout,
            settings.DEERAPI_READ_TIMEOUT if read_timeout is None else read_timeout,
        )
        self._session = http.Session()

    def __repr__(self) -> str:  # never show the key
        return f"DeerAPIClient({self.base_url!r})"

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._key}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }

    def create_prediction(
        self, model_id: str, input: dict[str, Any], *, webhook: str | None = None
    ) -> RemotePrediction:
        """Send one create, asking DeerAPI to call `webhook` when it ends if one is given. Never
        retried here: see `UncertainSubmission`."""
        url = f"{self.base_url}/replicate/v1/models/{model_id}/predictions"
        body: dict[str, Any] = {"input": input}
        if webhook:
            body["webhook"] = webhook
        # A fresh connection: a stale pooled one could fail after sending and
        # leave us unable to tell whether DeerAPI took the request.
        try:
            with http.Session() as session:
                response = session.post(url, json=body, headers=self._headers(), timeout=self.timeout)
        except requests.ConnectionError as exc:
            if _connection_error_sent_nothing(exc):
                raise TransientError(
                    _("cannot connect to DeerAPI: %(error)s") % {"error": exc.__class__.__name__}
                ) from _cause(exc)
            raise UncertainSubmission(_("the connection to DeerAPI broke after the request was sent")) from _cause(exc)
        except requests.Timeout as exc:
            raise UncertainSubmission(_("DeerAPI did not answer the create in time")) from _cause(exc)
        except requests.RequestException as exc:
            raise UncertainSubmission(
                _("the create failed midway: %(error)s") % {"error": exc.__class__.__name__}
            ) from _cause(exc)
        _raise_for_status(response, creating=True)
        try:
            return RemotePrediction.from_json(response.json())
        except ValueError as exc:
            raise UncertainSubmission(
                _("DeerAPI accepted the create (HTTP %(code)d) but its reply could not be read")
                % {"code": response.status_code}
            ) from _cause(exc)

    def _get_json(self, path: str, *, params: dict[str, str] | None = None, method: str = "GET") -> Any:
        url = f"{self.base_url}{path}"
        try:
            try:
                response = self._session.request(
                    method, url, headers=self._headers(), params=params, timeout=self.timeout
                )
            except requests.ConnectionError as exc:
                if method != "GET" or isinstance(exc, requests.Timeout):
                    raise
                # A kept-alive connection DeerAPI has since closed: a GET is safe to send again.
                response = self._session.request(
                    method, url, headers=self._headers(), params=params, timeout=self.timeout
                )
        except requests.RequestException as exc:
            raise TransientError(f"DeerAPI did not answer: {exc.__class__.__name__}") from _cause(exc)
        _raise_for_status(response, creating=False)
        try:
            return response.json()
        except ValueError as exc:
            raise TransientError(
                f"DeerAPI answered HTTP {response.status_code} with a body that is not JSON",
                status_code=response.status_code,
            ) from _cause(exc)

    def get_prediction(self, deerapi_id: str) -> RemotePrediction:
        data = self._get_json(f"/replicate/v1/predictions/{deerapi_id}")
        try:
            return RemotePrediction.from_json(data)
        except ValueError as exc:
            raise TransientError(f"DeerAPI's reply could not be read: {exc}") from _cause(exc)

    def cancel_prediction(self, deerapi_id: str) -> RemotePrediction:
        data = self._get_json(f"/replicate/v1/predictions/{deerapi_id}/cancel", method="POST")
        try:
            return RemotePrediction.from_json(data)
        except ValueError as exc:
            raise TransientError(f"DeerAPI's reply could not be read: {exc}") from _cause(exc)

    def get_balance(self) -> AccountBalance:
        """DeerAPI's account balance and usage. That endpoint takes the key as `?key=`:
        errors name only the exception class, and the error chained to them is redacted
        (see `_cause`), so the URL's key never reaches a message or a traceback."""
        try:
            response = self._session.get(
                f"{self.query_url}/user/quota",
                params={"key": self._key},
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise TransientError(f"DeerAPI's balance endpoint did not answer: {exc.__class__.__name__}") from _cause(
                exc
            )
        _raise_for_status(response, creating=False)
        try:
            return AccountBalance.from_json(response.json())
        except ValueError as exc:
            raise TransientError(f"DeerAPI's balance reply could not be read: {exc}") from _cause(exc)

    def list_models(self) -> list[str]:
        data = self._get_json("/v1/models")
        items = data.get("data") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise TransientError("DeerAPI's model list has an unexpected shape")
        return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id")]


_clients = threading.local()


def get_client() -> DeerAPIClient:
    """This thread's client for the current settings: its session keeps connections to
    DeerAPI open between polls. A forked process (a worker's pool) starts its own."""
    key = (
        os.getpid(),
        settings.DEERAPI_BASE_URL,
        settings.DEERAPI_QUERY_URL,
        settings.DEERAPI_KEY,
        settings.DEERAPI_CONNECT_TIMEOUT,
        settings.DEERAPI_READ_TIMEOUT,
    )
    if getattr(_clients, "key", None) != key:
        _clients.client = DeerAPIClient()
        _clients.key = key
    return _clients.client
