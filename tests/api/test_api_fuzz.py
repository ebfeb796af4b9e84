"""The API fuzzed against its own OpenAPI document (schemathesis): no answer is a 5xx, and
every answer fits the document."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from deerweb.wsgi import application

schema = schemathesis.openapi.from_wsgi("/replicate/v1/openapi.json", application)


@pytest.fixture
def one_connection():
    """Requests go straight to the WSGI application, whose request signals would close the test's
    connection (inside its transaction); Django's test Client keeps it open the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_the_document_allows_gets_a_5xx_or_an_answer_outside_the_document(
    case, member_token, one_connection
):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {member_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
