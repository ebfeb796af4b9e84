"""Secrets out of text: the one `redact` used wherever text may carry one.

Text from DeerAPI can echo the key it received (OpenAI-style gateways answer
"Incorrect API key provided: sk-…"), and an exception about the balance
endpoint names its URL, whose `?key=` is the key. `redact` replaces:

- the configured DeerAPI key, wherever it appears;
- any `Bearer <token>` and any `sk-…` key (another key, or one partly masked);
- DeerWeb's own API tokens (`dwt_…`, accounts.tokens), however sent (not the 12-character prefix lists show);
- the value of `key=` / `api_key=` query parameters;
- the token of an uploaded input image's public URL (`/inputs/<token>/`).

It runs at the DeerAPI client's boundary (every message it raises and every remote
text DeerWeb stores), on every log record and in error reports.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"
# Shorter strings would be replaced inside ordinary words.
MIN_SECRET_LENGTH = 8

_PATTERNS = (
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{6,}"), rf"\g<1>{REDACTED}"),
    (re.compile(r"\bsk-[A-Za-z0-9_*-]{6,}"), REDACTED),
    (re.compile(r"\bdwt_[A-Za-z0-9_-]{20,}"), REDACTED),  # longer than the prefix lists show
    (re.compile(r"(?i)([?&;](?:api[_-]?)?key=)[^&#\s'\"<>]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(/inputs/)[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}\b"), rf"\g<1>{REDACTED}"),
)


def configured_secrets() -> list[str]:
    """The secrets DeerWeb holds that text must never show: the DeerAPI key (when set)."""
    from django.conf import settings

    key = getattr(settings, "DEERAPI_KEY", "") or ""
    return [key] if len(key) >= MIN_SECRET_LENGTH else []


def redact(text: str) -> str:
    """`text` with every secret described above replaced by [redacted]."""
    for secret in configured_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
