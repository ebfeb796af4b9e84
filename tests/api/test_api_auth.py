"""Who may call the API: a valid personal token only, within its rate limit; read-only tokens only read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import token_create, token_revoke
from tests.world import PROMPT, SCHNELL

pytestmark = pytest.mark.django_db
JSON = "application/json"
CREATE = f"/replicate/v1/models/{SCHNELL}/predictions"


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_request_without_a_token_or_with_an_unknown_one_is_401_as_problem_json(client):
    for headers in ({}, bearer("dwt_" + "x" * 40), {"HTTP_AUTHORIZATION": "Basic Zm9vOmJhcg=="}):
        response = client.get("/replicate/v1/predictions", **headers)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["title"] == "Unauthenticated"


def test_the_browser_session_alone_does_not_reach_the_api(member_client):
    assert member_client.get("/replicate/v1/account").status_code == 401


def test_replicates_older_token_scheme_is_accepted_too(client, member_token):
    response = client.get("/replicate/v1/account", HTTP_AUTHORIZATION=f"Token {member_token}")
    assert response.status_code == 200 and response.json()["username"] == "alice"


def test_a_revoked_or_expired_token_or_a_deactivated_members_is_401(client, member, admin_user):
    revoked, revoked_raw = token_create(member, "old")
    token_revoke(revoked, by=member)
    expired, expired_raw = token_create(member, "short", expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _token, raw = token_create(member, "current")
    assert client.get("/replicate/v1/account", **bearer(raw)).status_code == 200
    for dead in (revoked_raw, expired_raw):
        assert client.get("/replicate/v1/account", **bearer(dead)).status_code == 401
    member.is_active = False
    member.save()
    assert client.get("/replicate/v1/account", **bearer(raw)).status_code == 401


def test_a_read_only_token_reads_but_cannot_create_cancel_upload_or_read_the_webhook_secret(client, member):
    _token, raw = token_create(member, "dashboard", read_only=True)
    assert client.get("/replicate/v1/predictions", **bearer(raw)).status_code == 200
    response = client.post(CREATE, {"input": {"prompt": PROMPT}}, content_type=JSON, **bearer(raw))
    assert response.status_code == 403 and "read-only" in response.json()["detail"]
    assert client.post("/replicate/v1/files", **bearer(raw)).status_code == 403
    secret = client.get("/replicate/v1/webhooks/default/secret", **bearer(raw))
    assert secret.status_code == 403 and "whsec_" not in secret.content.decode()


def test_above_the_rate_limit_the_api_answers_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT = 3
    codes = [api.get("/replicate/v1/account").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/replicate/v1/account")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_account_is_the_tokens_member(api):
    assert api.get("/replicate/v1/account").json() == {
        "type": "user",
        "username": "alice",
        "name": "alice",
        "github_url": None,
    }


def test_a_method_the_endpoint_does_not_take_is_405(api):
    response = api.delete("/replicate/v1/predictions")
    assert response.status_code == 405 and "GET" in response["Allow"]
