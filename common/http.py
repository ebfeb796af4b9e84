"""HTTP sessions for DeerWeb's outgoing calls (DeerAPI, its output files).

requests reads the environment on every request: the proxy variables and NO_PROXY (scanning
the whole environment, twice), the CA bundle variables, and a `.netrc` file on disk. In a worker
that polls and downloads all day this was about a twentieth of its CPU per prediction. A
`Session` here reads the proxies and the CA bundle once per origin, as requests would, and never
reads `.netrc`: DeerWeb's credentials come from its settings, and a `.netrc` entry for DeerAPI's
host would replace the key's `Authorization` header (requests applies it over the header).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.utils import get_environ_proxies

if TYPE_CHECKING:
    from requests.sessions import _Settings


class Session(requests.Session):
    """A requests session that takes the environment's proxies and CA bundle once per origin."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # requests' per-request lookups; done once per origin below instead
        self._environment: dict[tuple[str, str], tuple[dict[str, str], str | None]] = {}

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> _Settings:
        text = url.decode() if isinstance(url, bytes) else (url or "")
        origin = urlsplit(text)[:2]
        found = self._environment.get(origin)
        if found is None:
            # What requests' own merge_environment_settings reads when trust_env is on.
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            found = self._environment[origin] = (get_environ_proxies(text, no_proxy=None), bundle)
        environment_proxies, bundle = found
        proxies = {**environment_proxies, **(proxies or {})}  # the caller's own win
        if verify is True or verify is None:
            verify = bundle or verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)

    def rebuild_proxies(self, prepared_request: requests.PreparedRequest, proxies: Any) -> dict[str, str]:
        """On a redirect requests looks at the environment again (the new host may be in NO_PROXY):
        so does this session (a session serves one thread, as requests' sessions must)."""
        self.trust_env = True
        try:
            return super().rebuild_proxies(prepared_request, proxies)
        finally:
            self.trust_env = False
