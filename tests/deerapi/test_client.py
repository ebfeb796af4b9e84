"""deerapi.client: error bodies of both shapes become readable messages and typed errors."""

import json

import pytest
import requests

from deerapi import client
from deerapi.client import (
    AuthError,
    BalanceExhausted,
    PermanentError,
    TransientError,
    UncertainSubmission,
    error_message,
    normalise_output,
)
from tests.world import SCHNELL


def response(status: int, body, *, content_type="application/json", headers=None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = (json.dumps(body) if not isinstance(body, str) else body).encode()
    r.headers["Content-Type"] = content_type
    r.headers.update(headers or {})
    return r


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (None, []),
        ("https://x/a.png", ["https://x/a.png"]),
        (["https://x/a.png", "https://x/b.png"], ["https://x/a.png", "https://x/b.png"]),
        ([], []),
        ({"unexpected": 1}, []),
    ],
)
def test_output_of_every_shape_becomes_a_list(output, expected):
    assert normalise_output(output) == expected


def test_deerapis_error_envelope_gives_its_message():
    body = {"error": {"message": "当前分组上游负载已饱和", "type": "new_api_error", "code": "x"}}
    assert error_message(response(503, body)) == ("当前分组上游负载已饱和", {})


def test_replicates_problem_json_gives_title_detail_and_fields():
    body = {
        "title": "Input validation failed",
        "status": 422,
        "detail": "- input.output_format: must be one of jpg, png\n",
        "invalid_fields": [{"type": "enum", "field": "input.output_format", "description": "must be jpg or png"}],
    }
    message, fields = error_message(response(422, body, content_type="application/problem+json"))
    assert message.startswith("Input validation failed: - input.output_format")
    assert fields == {"output_format": "must be jpg or png"}


def test_a_body_that_is_not_json_is_shown_as_text():
    assert error_message(response(502, "<html>Bad gateway</html>", content_type="text/html"))[0] == (
        "<html>Bad gateway</html>"
    )


@pytest.mark.parametrize(
    ("status", "body", "creating", "error"),
    [
        (401, {"error": {"message": "invalid token"}}, False, AuthError),
        (402, {"detail": "Payment required"}, True, BalanceExhausted),
        (403, {"error": {"message": "用户额度不足", "code": "insufficient_user_quota"}}, True, BalanceExhausted),
        (403, {"error": {"message": "forbidden model"}}, True, PermanentError),
        (404, {"detail": "not found"}, False, PermanentError),
        (422, {"detail": "bad"}, True, PermanentError),
        (429, {"detail": "throttled"}, True, TransientError),
        (503, {"detail": "busy"}, True, TransientError),
        (500, {"detail": "oops"}, False, TransientError),
        (502, {"detail": "bad gateway"}, True, UncertainSubmission),
        (504, {"detail": "gateway timeout"}, True, UncertainSubmission),
    ],
)
def test_each_status_raises_its_kind_of_error(status, body, creating, error):
    with pytest.raises(error) as exc:
        client._raise_for_status(response(status, body), creating=creating)
    assert exc.value.status_code == status


def test_retry_after_in_seconds_is_read():
    with pytest.raises(TransientError) as exc:
        client._raise_for_status(response(429, {"detail": "x"}, headers={"Retry-After": "7"}), creating=True)
    assert exc.value.retry_after == 7.0


def test_the_client_never_shows_its_key():
    api = client.DeerAPIClient(base_url="http://127.0.0.1:9", key="sk-secret-value", connect_timeout=1, read_timeout=1)
    assert "sk-secret-value" not in repr(api)


def test_a_refused_connection_is_transient_because_nothing_was_sent():
    api = client.DeerAPIClient(base_url="http://127.0.0.1:9", key="k", connect_timeout=1, read_timeout=1)
    with pytest.raises(TransientError):
        api.create_prediction(SCHNELL, {"prompt": "x"})
