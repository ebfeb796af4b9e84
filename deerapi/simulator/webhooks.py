"""The simulator's answer to DeerAPI's `webhook` field, whose delivery DeerAPI does not document.

In the "sent" mode a create's `webhook` URL is POSTed the prediction, as its GET would return it,
once the prediction ends (Replicate's `completed` event: not signed, not retried). In the
"ignored" mode the field is accepted and nothing is ever sent, which may as well be DeerAPI's way.
DeerWeb must work in both worlds.
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

WEBHOOK_MODES = ("ignored", "sent")
TIMEOUT = 5.0


class WebhookSender:
    """One thread POSTing each due webhook, in the order they fall due. `document(id)` gives the
    body at sending time (None: the prediction is gone, nothing is sent); `sent(ok)` counts."""

    def __init__(self, document: Callable[[str], dict[str, Any] | None], sent: Callable[[bool], None]) -> None:
        self._document = document
        self._sent = sent
        self._due: list[tuple[float, int, str, str]] = []  # (monotonic time, order, prediction id, url)
        self._order = 0
        self._wake = threading.Condition()
        self._stopped = False
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._thread: threading.Thread | None = None

    def schedule(self, at: float, prediction_id: str, url: str) -> None:
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="simulator-webhooks", daemon=True)
                self._thread.start()
            self._order += 1
            heapq.heappush(self._due, (at, self._order, prediction_id, url))
            self._wake.notify()

    def forget(self) -> None:
        """Drop every webhook not sent yet (the simulator's reset)."""
        with self._wake:
            self._due.clear()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._due.clear()
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT + 1)

    @property
    def pending(self) -> int:
        with self._wake:
            return len(self._due)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._due or self._due[0][0] > time.monotonic()):
                    self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
                if self._stopped:
                    return
                _, _, prediction_id, url = heapq.heappop(self._due)
            self._post(prediction_id, url)

    def _post(self, prediction_id: str, url: str) -> None:
        document = self._document(prediction_id)
        if document is None:
            return
        request = urllib.request.Request(  # noqa: S310 - the URL's scheme is checked at the create
            url,
            data=json.dumps(document).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "DeerAPI-simulator"},
            method="POST",
        )
        try:
            with self._opener.open(request, timeout=TIMEOUT) as response:
                response.read()
            self._sent(True)
        except (urllib.error.URLError, OSError) as exc:
            logger.info("simulator webhook for %s failed: %s", prediction_id, exc.__class__.__name__)
            self._sent(False)
