"""The one outgoing HTTP call of webhooks: a POST to the checked address, with a short timeout.

The connection goes to `Target.address`, the address targets.py checked, with the URL's host
in the Host header; over HTTPS, SNI and the certificate check are for that host too (urllib3's
`server_hostname` and `assert_hostname`). Redirects are not followed (as Replicate's are not),
no proxy from the environment is used, and the answer's body is never read.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from webhooks.targets import Target

USER_AGENT = "DeerWeb/0.1 (webhooks)"
RETRY_AFTER_MAX = 300.0


@dataclass(frozen=True)
class Answer:
    """What came back: a status code, or the class of the error that stopped the request."""

    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None


class _PinnedAdapter(HTTPAdapter):
    """HTTPS to an address, with SNI and the certificate check for the URL's host name."""

    def __init__(self, hostname: str) -> None:
        self._hostname = hostname
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        kwargs: dict[str, Any] = dict(pool_kwargs)
        if host_params["scheme"] == "https":
            kwargs.update(server_hostname=self._hostname, assert_hostname=self._hostname)
        return host_params, kwargs


def _retry_after(response: requests.Response) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), at most RETRY_AFTER_MAX."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def webhook_post(target: Target, body: bytes, headers: dict[str, str], *, verify: bool | str = True) -> Answer:
    """POST `body` to the target's checked address. Never raises for what the network or the
    receiver does; `verify`: a CA bundle's path instead of the system's (tests)."""
    auth = (target.username or "", target.password or "") if target.username is not None else None
    with requests.Session() as session:
        session.trust_env = False  # a proxy from the environment would connect elsewhere
        session.mount("https://", _PinnedAdapter(target.host))
        session.mount("http://", HTTPAdapter(max_retries=0))
        try:
            with session.post(
                target.pinned_url,
                data=body,
                headers={**headers, "Host": target.host_header, "User-Agent": USER_AGENT},
                auth=auth,
                timeout=(settings.WEBHOOK_TIMEOUT, settings.WEBHOOK_TIMEOUT),
                allow_redirects=False,
                stream=True,
                verify=verify,
            ) as response:
                return Answer(status_code=response.status_code, retry_after=_retry_after(response))
        except requests.RequestException as exc:
            # Only the class: the exception's text names the URL, which may hold credentials.
            return Answer(error=exc.__class__.__name__)
