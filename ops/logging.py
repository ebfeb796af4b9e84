"""Logging: the DeerAPI key never reaches a log line or an error report, and every
line about a prediction carries its id.

- `RedactSecretsFilter` redacts secrets (`redaction.redact`: the key, bearer tokens,
  `key=` parameters, …) in the message, its arguments and any exception text or
  stack attached to the record.
- `prediction_context(id)` (and `about_prediction` for Celery tasks, and
  `PredictionLogContextMiddleware` for the prediction pages) set the prediction a
  piece of work is about; `PredictionContextFilter` copies it onto every record.
- `KeyValueFormatter` (the default) and `JsonFormatter` (`DEERWEB_LOG_FORMAT=json`)
  write one line per record with `prediction_id` when there is one.
- `RedactingExceptionReporterFilter` / `RedactingExceptionReporter`: Django's error
  reports (the DEBUG 500 page, error e-mails) hide the key and service URLs.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import traceback
from collections.abc import Callable, ItemsView, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from ops.redaction import redact

_prediction_id: ContextVar[int | None] = ContextVar("deerweb_prediction_id", default=None)

F = TypeVar("F", bound=Callable[..., Any])


# --- Filters ------------------------------------------------------------------------


class RedactSecretsFilter(logging.Filter):
    """Redacts secrets from the message, and from the exception and stack text.

    The formatted exception is stored redacted in `record.exc_text`, which every
    logging.Formatter prints instead of formatting `exc_info` again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class PredictionContextFilter(logging.Filter):
    """Sets `record.prediction_id` from the current prediction context (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "prediction_id", None) is None:
            record.prediction_id = _prediction_id.get()
        return True


# --- The prediction a piece of work is about -------------------------------------------


@contextmanager
def prediction_context(prediction_id: int | None) -> Iterator[None]:
    """Every line logged inside carries `prediction_id`."""
    token = _prediction_id.set(prediction_id)
    try:
        yield
    finally:
        _prediction_id.reset(token)


def current_prediction_id() -> int | None:
    return _prediction_id.get()


def about_prediction(task: F) -> F:
    """For a Celery task whose first argument is a prediction id: its log lines carry it."""

    @functools.wraps(task)
    def run(prediction_id: int, *args: Any, **kwargs: Any) -> Any:
        with prediction_context(prediction_id):
            return task(prediction_id, *args, **kwargs)

    return run  # type: ignore[return-value]


# URL namespaces whose `pk` is a prediction's id.
PREDICTION_URL_NAMESPACES = frozenset({"predictions", "gallery", "review"})


class PredictionLogContextMiddleware:
    """Lines logged while serving one prediction's pages (detail, live part, files,
    cancel, run again, its gallery page) carry its id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            token = request.__dict__.pop("_prediction_log_token", None)
            if token is not None:
                try:
                    _prediction_id.reset(token)
                except ValueError:  # ASGI: process_view ran in a context of its own (sync_to_async)
                    _prediction_id.set(None)

    def process_view(self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict[str, Any]) -> None:
        match = request.resolver_match
        if match is not None and match.app_name in PREDICTION_URL_NAMESPACES and isinstance(kwargs.get("pk"), int):
            request._prediction_log_token = _prediction_id.set(kwargs["pk"])  # type: ignore[attr-defined]


# --- Formatters ---------------------------------------------------------------------------

_BARE_VALUE = re.compile(r"[^\s\"=\\]+")


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "time": _timestamp(record),
        "level": record.levelname,
        "logger": record.name,
    }
    prediction_id = getattr(record, "prediction_id", None)
    if prediction_id is not None:
        fields["prediction_id"] = prediction_id
    fields["message"] = record.getMessage()
    return fields


class KeyValueFormatter(logging.Formatter):
    """`time=… level=INFO logger=predictions.services prediction_id=12 message="…"`.

    Values with spaces, quotes or `=` are double-quoted with JSON escapes; a
    traceback follows on the next lines, as Python prints it.
    """

    def format(self, record: logging.LogRecord) -> str:
        line = " ".join(f"{key}={self._value(value)}" for key, value in _fields(record).items())
        extra = self._exception(record)
        return f"{line}\n{extra}" if extra else line

    @staticmethod
    def _value(value: Any) -> str:
        text = str(value)
        if _BARE_VALUE.fullmatch(text):
            return text
        return json.dumps(text, ensure_ascii=False)

    def _exception(self, record: logging.LogRecord) -> str:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        parts = [record.exc_text or "", self.formatStack(record.stack_info) if record.stack_info else ""]
        return "\n".join(part for part in parts if part)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, prediction_id (when there is one),
    message, and exc_info / stack_info as text."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            fields["exc_info"] = record.exc_text
        if record.stack_info:
            fields["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(fields, ensure_ascii=False, default=str)


# --- Error reports --------------------------------------------------------------------------


class RedactingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus: settings holding credentials in a URL (DATABASE_URL,
    CELERY_BROKER_URL) are hidden, and so is any frame variable that contains a secret."""

    hidden_settings = re.compile("API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE_URL|BROKER_URL", re.I)

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> ItemsView[str, Any]:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return {
            name: self.cleansed_substitute if _names_a_secret(value) else value for name, value in variables
        }.items()


def _names_a_secret(value: Any) -> bool:
    text = _safe_repr(value)
    return redact(text) != text


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # a broken __repr__ must not break the error report
        return ""


class RedactingExceptionReporter(ExceptionReporter):
    """The error report (HTML and text), with the key removed wherever it still appears
    (an exception's message, a template's source). Redaction only puts a plain marker in
    place of a secret, so the report stays as safe as Django made it."""

    def get_traceback_html(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_html()))  # noqa: S308 - Django's report, redacted

    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_text()))  # noqa: S308 - Django's report, redacted
