"""The Replicate-compatible API at /replicate/v1/, for the team's scripts and tools.

Authenticated by personal API tokens only (never by the browser's session, so no CSRF);
JSON in, JSON out, errors as problem+json (api.errors). Create and get are async views:
with `Prefer: wait` they hold the request until the prediction ends or the wait runs out,
without a thread or a database connection while they wait (api.waiting).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt

from api import schema, services, waiting
from api.auth import api_token_get
from api.errors import ApiError, not_found
from catalog import selectors as catalog_selectors
from catalog.inputs import ModelSpec
from predictions.models import Prediction
from predictions.replicate import prediction_as_replicate
from webhooks.services import webhook_secret_for

View = Callable[..., HttpResponse]


def _base_url(request: HttpRequest) -> str:
    """Where this caller reaches DeerWeb: PUBLIC_URL, or the address of this request."""
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def _hosts(request: HttpRequest) -> frozenset[str]:
    """The hosts at which an input's URL names a file uploaded here."""
    return frozenset({request.get_host(), urlsplit(settings.PUBLIC_URL).netloc} - {""})


def _json_body(request: HttpRequest) -> Any:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Bad request", "The body is not valid JSON.") from None
    if b"\\u0000" in request.body and _has_nul(body):  # PostgreSQL keeps no NUL character in text or JSON
        raise ApiError(422, "Input validation failed", "Text in the body may not contain NUL characters (\\u0000).")
    return body


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def api_view(methods: tuple[str, ...]) -> Callable[[View], View]:
    """A sync API view: method check, ApiError as problem+json, no CSRF (tokens only)."""

    def decorator(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return _method_not_allowed(methods)
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return exc.response()

        return wrapped

    return decorator


def async_api_view(methods: tuple[str, ...]) -> Callable[[Callable[..., Awaitable[HttpResponse]]], Any]:
    def decorator(view: Callable[..., Awaitable[HttpResponse]]) -> Any:
        @csrf_exempt
        @wraps(view)
        async def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return _method_not_allowed(methods)
            try:
                return await view(request, *args, **kwargs)
            except ApiError as exc:
                return exc.response()

        return wrapped

    return decorator


def _method_not_allowed(methods: tuple[str, ...]) -> HttpResponse:
    response = ApiError(405, "Method not allowed", f"Use {' or '.join(methods)}.").response()
    response["Allow"] = ", ".join(methods)
    return response


def _prediction_response(prediction: Prediction, request: HttpRequest, http_status: int = 200) -> JsonResponse:
    return JsonResponse(prediction_as_replicate(prediction, _base_url(request)), status=http_status)


# --- Predictions -----------------------------------------------------------------------------


def _create(request: HttpRequest, model_id: str) -> Prediction:
    token = api_token_get(request, write=True)
    return services.api_prediction_create(
        token=token, model_id=model_id, body=_json_body(request), hosts=_hosts(request)
    )


async def _created_response(request: HttpRequest, prediction: Prediction) -> HttpResponse:
    seconds = waiting.prefer_wait(request.headers.get("Prefer", ""))
    if seconds is None:
        return await sync_to_async(_prediction_response)(prediction, request, 201)
    finished = await waiting.prediction_wait(prediction.owner_id, prediction.pk, seconds, _base_url(request))
    if not finished.status_is_terminal:
        # Not done within the wait: `starting`, as Replicate answers, so replicate-python's
        # run() goes on polling instead of returning an output that is not there yet.
        finished.body["status"] = "starting"
    return JsonResponse(finished.body, status=201)


@async_api_view(("POST",))
async def model_predictions(request: HttpRequest, model: str) -> HttpResponse:
    """POST /v1/models/{model}/predictions: `model` is the full id, with or without an owner."""
    prediction = await sync_to_async(_create)(request, model.strip("/"))
    return await _created_response(request, prediction)


def _list(request: HttpRequest) -> JsonResponse:
    token = api_token_get(request)
    page = services.predictions_page(
        token.user,
        cursor=request.GET.get("cursor"),
        created_after=request.GET.get("created_after"),
        created_before=request.GET.get("created_before"),
    )
    base = _base_url(request)

    def link(cursor: str | None) -> str | None:
        if cursor is None:
            return None
        query: dict[str, str] = {k: str(v) for k, v in request.GET.items() if k in ("created_after", "created_before")}
        return f"{base}{reverse('api:predictions')}?{urlencode({**query, 'cursor': cursor})}"

    return JsonResponse(
        {
            "next": link(page.next),
            "previous": link(page.previous),
            "results": [prediction_as_replicate(p, base) for p in page.rows],
        }
    )


@async_api_view(("GET", "POST"))
async def predictions(request: HttpRequest) -> HttpResponse:
    """GET /v1/predictions: the member's predictions; POST: create, `version` naming a model."""
    if request.method == "GET":
        return await sync_to_async(_list)(request)
    body = await sync_to_async(_json_body)(request)
    model_id = await sync_to_async(services.model_id_from_version)(
        body.get("version") if isinstance(body, dict) else None
    )
    prediction = await sync_to_async(_create)(request, model_id)
    return await _created_response(request, prediction)


def _get(request: HttpRequest, pk: str) -> Prediction:
    token = api_token_get(request)
    return services.prediction_of(token.user, pk)


def _get_response(request: HttpRequest, pk: str) -> JsonResponse:
    return _prediction_response(_get(request, pk), request)


@async_api_view(("GET",))
async def prediction(request: HttpRequest, pk: str) -> HttpResponse:
    seconds = waiting.prefer_wait(request.headers.get("Prefer", ""))
    if seconds is None:  # a poll: one trip to a thread
        return await sync_to_async(_get_response)(request, pk)
    found = await sync_to_async(_get)(request, pk)
    return JsonResponse((await waiting.prediction_wait(found.owner_id, found.pk, seconds, _base_url(request))).body)


@api_view(("POST",))
def prediction_cancel(request: HttpRequest, pk: str) -> HttpResponse:
    token = api_token_get(request, write=True)
    return _prediction_response(services.prediction_cancel(token.user, pk), request)


# --- Models, account, files --------------------------------------------------------------------


@api_view(("GET",))
def models(request: HttpRequest) -> HttpResponse:
    api_token_get(request)
    base = _base_url(request)
    results = [schema.model_as_replicate(spec, base) for spec in catalog_selectors.models_enabled()]
    return JsonResponse({"next": None, "previous": None, "results": results})


@api_view(("GET",))
def model(request: HttpRequest, model: str) -> HttpResponse:
    api_token_get(request)
    return JsonResponse(schema.model_as_replicate(_model_spec(model), _base_url(request)))


def _model_spec(model: str) -> ModelSpec:
    spec = catalog_selectors.model_get(model.strip("/"))
    if spec is None:
        raise not_found("model")
    return spec


@api_view(("GET",))
def model_versions(request: HttpRequest, model: str) -> HttpResponse:
    """GET /v1/models/{model}/versions: the one version DeerWeb keeps of each model."""
    api_token_get(request)
    return JsonResponse({"next": None, "previous": None, "results": [schema.version_as_replicate(_model_spec(model))]})


@api_view(("GET",))
def model_version(request: HttpRequest, model: str, version: str) -> HttpResponse:
    """GET /v1/models/{model}/versions/{id}: the model's version, if `id` is its id."""
    api_token_get(request)
    spec = _model_spec(model)
    if version != schema.version_id(spec.id):
        raise not_found("version (DeerWeb keeps one version of each model: its id is the model's latest_version.id)")
    return JsonResponse(schema.version_as_replicate(spec))


@api_view(("GET",))
def account(request: HttpRequest) -> HttpResponse:
    user = api_token_get(request).user
    return JsonResponse(
        {
            "type": "user",
            "username": user.get_username(),
            "name": user.get_full_name() or user.get_username(),
            "github_url": None,
        }
    )


@api_view(("GET",))
def webhook_secret(request: HttpRequest) -> HttpResponse:
    """GET /v1/webhooks/default/secret: the key that signs the member's webhooks (Standard Webhooks).
    Not for a read-only token: whoever holds the key can sign messages the member's receivers trust."""
    return JsonResponse({"key": webhook_secret_for(api_token_get(request, write=True).user)})


@api_view(("GET", "POST"))
def files(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        user = api_token_get(request).user
        images = services.uploaded_files(user)
        base = _base_url(request)
        return JsonResponse(
            {"next": None, "previous": None, "results": [services.file_as_replicate(i, base) for i in images]}
        )
    token = api_token_get(request, write=True)
    image = services.file_create(token.user, request.FILES.get("content"))
    return JsonResponse(services.file_as_replicate(image, _base_url(request)), status=201)


@api_view(("GET", "DELETE"))
def file(request: HttpRequest, pk: str) -> HttpResponse:
    if request.method == "DELETE":
        services.file_delete(api_token_get(request, write=True).user, pk)
        return HttpResponse(status=204)
    image = services.file_of(api_token_get(request).user, pk)
    return JsonResponse(services.file_as_replicate(image, _base_url(request)))


@csrf_exempt
def unknown(request: HttpRequest) -> HttpResponse:
    """A path the API does not have (Replicate's trainings, deployments, collections…): 404 as
    problem+json, so a client shows why, not DeerWeb's HTML page."""
    return ApiError(
        404,
        "Not found",
        f"DeerWeb's API has no {request.path}: it serves predictions, models, account, files and the "
        "webhook secret (see /replicate/v1/openapi.json).",
    ).response()
