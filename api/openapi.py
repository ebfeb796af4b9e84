"""The OpenAPI document of the API (GET /replicate/v1/openapi.json), kept beside the views it
describes; tests fuzz the views against it (schemathesis) and check every answer fits it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}
PROBLEM = {"$ref": "#/components/schemas/Problem"}
ID = {"type": "string", "pattern": "^[0-9]{1,18}$"}
# The model of /v1/models/{model_owner}/{model_name}[/predictions].
MODEL_PATH = [
    {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9._-]+$"}}
    for name in ("model_owner", "model_name")
]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM}}}


def _json(description: str, ref: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


ERRORS = {
    "400": _problem("Malformed request"),
    "401": _problem("Missing, unknown, revoked or expired token, or a deactivated member"),
    "429": _problem("Over the token's rate limit (see Retry-After)"),
}
WRITE_ERRORS = {
    **ERRORS,
    "402": _problem("A budget refuses the prediction"),
    "403": _problem("A read-only token, or a model the member may not use"),
    "404": _problem("No such model"),
    "422": _problem("The input does not fit the model"),
}
PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "description": "`wait` or `wait=N` (1-60 s): answer once the prediction ends or the time runs out.",
    "schema": {"type": "string"},
}
CREATE_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictionRequest"}}},
}


def document() -> dict[str, Any]:
    prediction_id = {"name": "prediction_id", "in": "path", "required": True, "schema": ID}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "DeerWeb API",
            "version": "1",
            "description": "Replicate's predictions API, answered by DeerWeb under the team's budgets, "
            "history and review. Authenticate with a personal token: `Authorization: Bearer <token>`.",
        },
        "servers": [{"url": "/replicate"}],
        "security": [{"bearer": []}],
        "paths": {
            "/v1/predictions": {
                "get": {
                    "operationId": "predictions.list",
                    "parameters": [
                        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
                        {
                            "name": "created_after",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "format": "date-time"},
                        },
                        {
                            "name": "created_before",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "format": "date-time"},
                        },
                    ],
                    "responses": {"200": _json("The member's predictions, newest first", "PredictionPage"), **ERRORS},
                },
                "post": {
                    "operationId": "predictions.create",
                    "parameters": [PREFER],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/VersionPredictionRequest"}}
                        },
                    },
                    "responses": {"201": _json("Created", "Prediction"), **WRITE_ERRORS},
                },
            },
            "/v1/predictions/{prediction_id}": {
                "get": {
                    "operationId": "predictions.get",
                    "parameters": [prediction_id, PREFER],
                    "responses": {
                        "200": _json("The prediction", "Prediction"),
                        "404": _problem("Not the member's"),
                        **ERRORS,
                    },
                }
            },
            "/v1/predictions/{prediction_id}/cancel": {
                "post": {
                    "operationId": "predictions.cancel",
                    "parameters": [prediction_id],
                    "responses": {
                        "200": _json("The prediction, canceled or about to be", "Prediction"),
                        "403": _problem("A read-only token"),
                        "404": _problem("Not the member's"),
                        **ERRORS,
                    },
                }
            },
            "/v1/models": {
                "get": {
                    "operationId": "models.list",
                    "responses": {"200": _json("The models the team may use", "ModelPage"), **ERRORS},
                }
            },
            "/v1/models/{model_owner}/{model_name}": {
                "get": {
                    "operationId": "models.get",
                    "parameters": [
                        *MODEL_PATH,
                    ],
                    "responses": {"200": _json("The model", "Model"), "404": _problem("No such model"), **ERRORS},
                }
            },
            "/v1/models/{model_owner}/{model_name}/versions": {
                "get": {
                    "operationId": "models.versions.list",
                    "parameters": [*MODEL_PATH],
                    "responses": {
                        "200": _json("The one version DeerWeb keeps of the model", "VersionPage"),
                        "404": _problem("No such model"),
                        **ERRORS,
                    },
                }
            },
            "/v1/models/{model_owner}/{model_name}/versions/{version_id}": {
                "get": {
                    "operationId": "models.versions.get",
                    "parameters": [
                        *MODEL_PATH,
                        {"name": "version_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": _json("The model's version", "Version"),
                        "404": _problem("No such model or version"),
                        **ERRORS,
                    },
                }
            },
            "/v1/models/{model_owner}/{model_name}/predictions": {
                "post": {
                    "operationId": "models.predictions.create",
                    "parameters": [
                        *MODEL_PATH,
                        PREFER,
                    ],
                    "requestBody": CREATE_BODY,
                    "responses": {"201": _json("Created", "Prediction"), **WRITE_ERRORS},
                }
            },
            "/v1/account": {
                "get": {
                    "operationId": "account.get",
                    "responses": {"200": _json("The token's member", "Account"), **ERRORS},
                }
            },
            "/v1/webhooks/default/secret": {
                "get": {
                    "operationId": "webhooks.default.secret.get",
                    "responses": {"200": _json("The key that signs the member's webhooks", "WebhookSecret"), **ERRORS},
                }
            },
            "/v1/files": {
                "get": {
                    "operationId": "files.list",
                    "responses": {"200": _json("The member's uploads", "FilePage"), **ERRORS},
                },
                "post": {
                    "operationId": "files.create",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["content"],
                                    "properties": {"content": {"type": "string", "format": "binary"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json("Stored", "File"),
                        "403": _problem("A read-only token"),
                        "422": _problem("Not an image DeerWeb can use"),
                        **ERRORS,
                    },
                },
            },
            "/v1/files/{file_id}": {
                "get": {
                    "operationId": "files.get",
                    "parameters": [{"name": "file_id", "in": "path", "required": True, "schema": ID}],
                    "responses": {"200": _json("The file", "File"), "404": _problem("Not the member's"), **ERRORS},
                },
                "delete": {
                    "operationId": "files.delete",
                    "parameters": [{"name": "file_id", "in": "path", "required": True, "schema": ID}],
                    "responses": {
                        "204": {"description": "Deleted"},
                        "403": _problem("A read-only token"),
                        "404": _problem("Not the member's"),
                        "409": _problem("An input of a prediction"),
                        **ERRORS,
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["title", "status", "detail"],
                    "properties": {
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "invalid_fields": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "type": {"type": "string"},
                                    "field": {"type": "string"},
                                    "description": {"type": "string"},
                                },
                            },
                        },
                    },
                },
                "PredictionRequest": {
                    "type": "object",
                    "required": ["input"],
                    "properties": {
                        "input": {"type": "object"},
                        "webhook": {"type": "string", "format": "uri"},
                        "webhook_events_filter": {
                            "type": "array",
                            "items": {"type": "string", "enum": ["start", "output", "logs", "completed"]},
                        },
                    },
                },
                "VersionPredictionRequest": {
                    "allOf": [
                        {"$ref": "#/components/schemas/PredictionRequest"},
                        {"type": "object", "required": ["version"], "properties": {"version": {"type": "string"}}},
                    ]
                },
                "Prediction": {
                    "type": "object",
                    "required": ["id", "model", "version", "input", "status", "source", "created_at", "urls"],
                    "properties": {
                        "id": {"type": "string"},
                        "model": {"type": "string"},
                        "version": {"type": "string"},
                        "input": {"type": "object"},
                        "output": {"nullable": True},
                        "logs": {"type": "string"},
                        "error": {"type": "string", "nullable": True},
                        "status": {
                            "type": "string",
                            "enum": ["starting", "processing", "succeeded", "failed", "canceled"],
                        },
                        "source": {"type": "string", "enum": ["api", "web"]},
                        "data_removed": {"type": "boolean"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "started_at": NULLABLE_TIME,
                        "completed_at": NULLABLE_TIME,
                        "metrics": {"type": "object"},
                        "urls": {
                            "type": "object",
                            "required": ["get", "cancel", "web"],
                            "properties": {k: {"type": "string"} for k in ("get", "cancel", "web")},
                        },
                    },
                },
                "PredictionPage": _page("Prediction"),
                "Version": {
                    "type": "object",
                    "required": ["id", "openapi_schema"],
                    "properties": {"id": {"type": "string"}, "openapi_schema": {"type": "object"}},
                },
                "VersionPage": {
                    "type": "object",
                    "required": ["results"],
                    "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/Version"}}},
                },
                "Model": {
                    "type": "object",
                    "required": ["url", "owner", "name", "latest_version"],
                    "properties": {
                        "url": {"type": "string"},
                        "owner": {"type": "string"},
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "visibility": {"type": "string"},
                        "run_count": {"type": "integer"},
                        "latest_version": {
                            "type": "object",
                            "required": ["id", "openapi_schema"],
                            "properties": {
                                "id": {"type": "string"},
                                "created_at": {"type": "string", "format": "date-time"},
                                "cog_version": {"type": "string"},
                                "openapi_schema": {"type": "object"},
                            },
                        },
                    },
                },
                "ModelPage": _page("Model"),
                "Account": {
                    "type": "object",
                    "required": ["type", "username"],
                    "properties": {
                        "type": {"type": "string"},
                        "username": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
                "WebhookSecret": {
                    "type": "object",
                    "required": ["key"],
                    "properties": {"key": {"type": "string", "pattern": "^whsec_"}},
                },
                "File": {
                    "type": "object",
                    "required": ["id", "content_type", "size", "urls"],
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "content_type": {"type": "string"},
                        "size": {"type": "integer"},
                        "etag": {"type": "string"},
                        "checksums": {"type": "object"},
                        "metadata": {"type": "object"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "expires_at": NULLABLE_TIME,
                        "urls": {"type": "object", "required": ["get"], "properties": {"get": {"type": "string"}}},
                    },
                },
                "FilePage": _page("File"),
            },
        },
    }


def _page(ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["next", "previous", "results"],
        "properties": {
            "next": {"type": "string", "nullable": True},
            "previous": {"type": "string", "nullable": True},
            "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
        },
    }


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(document())
