"""Errors as Replicate's API gives them: `application/problem+json` with `title`, `status`,
`detail` (and `invalid_fields` on 422), so the official clients raise their own errors."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse

PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        invalid_fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.invalid_fields = invalid_fields
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        body: dict[str, Any] = {"title": self.title, "status": self.status, "detail": self.detail}
        if self.invalid_fields is not None:
            body["invalid_fields"] = self.invalid_fields
        response = JsonResponse(body, status=self.status, content_type=PROBLEM_JSON)
        for name, value in self.headers.items():
            response[name] = value
        return response


def unauthenticated() -> ApiError:
    return ApiError(
        401,
        "Unauthenticated",
        "You did not pass a valid API token. Send `Authorization: Bearer <token>` with a token "
        "from your API tokens page in DeerWeb.",
        headers={"WWW-Authenticate": 'Bearer realm="DeerWeb"'},
    )


def not_found(what: str = "prediction") -> ApiError:
    return ApiError(404, "Not found", f"The requested {what} was not found.")


def invalid_input(errors: dict[str, str]) -> ApiError:
    """422 with one invalid field per input that was refused, as Replicate lists them."""
    fields = [
        {"type": "invalid", "field": f"input.{name}", "description": str(message)} for name, message in errors.items()
    ]
    detail = "".join(f"- input.{name}: {message}\n" for name, message in errors.items())
    return ApiError(422, "Input validation failed", detail, invalid_fields=fields)
