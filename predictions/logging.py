"""Log filters: the DeerAPI key never reaches a log line."""

from __future__ import annotations

import logging


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from django.conf import settings

        key = getattr(settings, "DEERAPI_KEY", "")
        if key and len(key) >= 8:
            message = record.getMessage()
            if key in message:
                record.msg = message.replace(key, "[redacted]")
                record.args = None
        return True
