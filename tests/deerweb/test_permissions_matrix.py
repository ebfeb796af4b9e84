"""Who may open which page and do which action: one table, every role.

Roles: anonymous, the member who owns the predictions, another member, a reviewer,
an admin, and a deactivated member who still holds a session from before.
Expected: a status code, "login" (sent to a login page) or "done" (the action
happened and redirected back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.tokens import token_create
from predictions.models import ReviewState, User
from tests.world import PASSWORD, SCHNELL, collection_of, finished_prediction, share_link_of

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "member", "other_member", "reviewer", "admin", "deactivated")


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: str  # formatted with the world's prediction ids
    expect: dict[str, int | str]
    data: tuple[tuple[str, str], ...] = ()
    from_page: bool = False  # the form's one-time nonce comes from its page, as in a browser


def everyone(anonymous, member, other_member, reviewer, admin, deactivated="login") -> dict[str, int | str]:
    return dict(zip(ROLES, (anonymous, member, other_member, reviewer, admin, deactivated), strict=True))


CASES = [
    # Review queue and decisions: reviewers and admins only.
    Case("review queue", "GET", "/review/", everyone("login", 403, 403, 200, 200)),
    Case(
        "approve",
        "POST",
        "/review/decide/",
        everyone("login", 403, 403, "done", "done"),
        (("one", "approve:{pending}"),),
    ),
    Case(
        "reject",
        "POST",
        "/review/decide/",
        everyone("login", 403, 403, "done", "done"),
        (("one", "reject:{pending}"), ("reason", "quality")),
    ),
    # Deleting a rejected prediction's files: admins only.
    Case(
        "delete files",
        "POST",
        "/review/{rejected}/delete-files/",
        everyone("login", 403, 403, 403, "done"),
        (("confirm", "yes"),),
    ),
    # The gallery: every active member.
    Case("gallery", "GET", "/gallery/", everyone("login", 200, 200, 200, 200)),
    Case("gallery item", "GET", "/gallery/{shared}/", everyone("login", 200, 200, 200, 200)),
    Case("gallery item not approved", "GET", "/gallery/{pending}/", everyone("login", 404, 404, 404, 404)),
    Case("gallery item rejected", "GET", "/gallery/{rejected}/", everyone("login", 404, 404, 404, 404)),
    # A member's predictions: the owner, reviewers and admins; teammates only once shared.
    Case("pending prediction", "GET", "/predictions/{pending}/", everyone("login", 200, 404, 200, 200)),
    Case(
        "pending prediction's image", "GET", "/predictions/{pending}/outputs/0/", everyone("login", 200, 404, 200, 200)
    ),
    Case(
        "pending prediction's thumbnail",
        "GET",
        "/predictions/{pending}/outputs/0/thumbnail/",
        everyone("login", 200, 404, 200, 200),
    ),
    Case("rejected prediction", "GET", "/predictions/{rejected}/", everyone("login", 200, 404, 200, 200)),
    Case(
        "rejected prediction's image",
        "GET",
        "/predictions/{rejected}/outputs/0/",
        everyone("login", 200, 404, 200, 200),
    ),
    Case("shared prediction", "GET", "/predictions/{shared}/", everyone("login", 200, 200, 200, 200)),
    Case("shared prediction's image", "GET", "/predictions/{shared}/outputs/0/", everyone("login", 200, 200, 200, 200)),
    Case(
        "private prediction's image", "GET", "/predictions/{private}/outputs/0/", everyone("login", 200, 404, 200, 200)
    ),
    Case(
        "cancel a teammate's shared prediction",
        "POST",
        "/predictions/{shared}/cancel/",
        everyone("login", "done", 404, 404, "done"),
    ),
    # Privacy: the owner only.
    Case(
        "make private",
        "POST",
        "/gallery/{pending}/private/",
        everyone("login", "done", 404, 404, 404),
        (("private", "1"),),
    ),
    # Audit log and team: admins only.
    Case("audit log", "GET", "/audit/", everyone("login", 403, 403, 403, 200)),
    Case("team", "GET", "/team/", everyone("login", 403, 403, 403, 200)),
    Case("team member", "GET", "/team/{member_id}/", everyone("login", 403, 403, 403, 200)),
    Case(
        "invite",
        "POST",
        "/team/invite/",
        everyone("login", 403, 403, 403, 200),
        (("username", "frank"), ("role", "Member")),
    ),
    Case(
        "deactivate",
        "POST",
        "/team/{other_member_id}/active/",
        everyone("login", 403, 403, 403, "done"),
        (("active", "0"),),
    ),
    Case(
        "change role",
        "POST",
        "/team/{other_member_id}/role/",
        everyone("login", 403, 403, 403, "done"),
        (("role", "Reviewer"),),
    ),
    Case("password link", "POST", "/team/{other_member_id}/password-link/", everyone("login", 403, 403, 403, 200)),
    # The Django admin site: admins only (a reviewer is not staff).
    Case("admin site", "GET", "/admin/", everyone("login", "login", "login", "login", 200)),
    Case(
        "prediction admin", "GET", "/admin/predictions/prediction/", everyone("login", "login", "login", "login", 200)
    ),
    Case("audit admin", "GET", "/admin/audit/auditentry/", everyone("login", "login", "login", "login", 200)),
    Case("API token admin", "GET", "/admin/accounts/apitoken/", everyone("login", "login", "login", "login", 200)),
    # Everyone's own account.
    Case("change own password", "GET", "/accounts/password/", everyone("login", 200, 200, 200, 200)),
    Case("own API tokens", "GET", "/accounts/tokens/", everyone("login", 200, 200, 200, 200)),
    Case(
        "create an API token",
        "POST",
        "/accounts/tokens/",
        everyone("login", 200, 200, 200, 200),
        (("name", "script"), ("expires", "30")),
        from_page=True,
    ),
    # A member's API token: its owner and admins may revoke it; nobody else finds it.
    Case(
        "revoke a member's API token",
        "POST",
        "/accounts/tokens/{member_token}/revoke/",
        everyone("login", "done", 404, 404, "done"),
    ),
    # Collections: the owner's; a team collection is seen (with what each may see) by everyone,
    # changed by its owner only; a share link's page needs no login.
    Case("collections", "GET", "/collections/", everyone("login", 200, 200, 200, 200)),
    Case("private collection", "GET", "/collections/{private_collection}/", everyone("login", 200, 404, 404, 404)),
    Case("team collection", "GET", "/collections/{team_collection}/", everyone("login", 200, 200, 200, 200)),
    Case(
        "team collection's zip",
        "GET",
        "/collections/{team_collection}/download/",
        everyone("login", 200, 200, 200, 200),
    ),
    Case(
        "rename a team collection",
        "POST",
        "/collections/{team_collection}/edit/",
        everyone("login", "done", 404, 404, 404),
        (("name", "Renamed"), ("visibility", "team")),
    ),
    Case(
        "revoke a share link",
        "POST",
        "/collections/{team_collection}/links/{share_link}/revoke/",
        everyone("login", "done", 404, 404, 404),
    ),
    Case("share link page", "GET", "/s/{share_token}/", everyone(200, 200, 200, 200, 200, 200)),
    Case(
        "submit a prediction",
        "POST",
        "/predictions/new/",
        everyone("login", "done", "done", "done", "done"),
        (
            ("model", SCHNELL),
            ("prompt", "a deer"),
            ("aspect_ratio", "1:1"),
            ("num_outputs", "1"),
            ("megapixels", "1"),
            ("output_format", "png"),
            ("output_quality", "80"),
            ("num_inference_steps", "4"),
        ),
    ),
]


@pytest.fixture
def world(member, other_member, reviewer, admin_user) -> dict[str, object]:
    deactivated = User.objects.create_user("erin", "erin@example.com", PASSWORD)
    pending = finished_prediction(member)
    shared = finished_prediction(member, review_state=ReviewState.APPROVED)
    team_collection = collection_of(member, pending, shared, visibility="team")
    share_path = share_link_of(team_collection)
    return {
        "users": {
            "member": member,
            "other_member": other_member,
            "reviewer": reviewer,
            "admin": admin_user,
            "deactivated": deactivated,
        },
        "ids": {
            "pending": pending.pk,
            "shared": shared.pk,
            "private": finished_prediction(member, review_state=ReviewState.APPROVED, is_private=True).pk,
            "rejected": finished_prediction(member, review_state=ReviewState.REJECTED, review_reason="no").pk,
            "member_id": member.pk,
            "other_member_id": other_member.pk,
            "member_token": token_create(member, "script")[0].pk,
            "private_collection": collection_of(member, pending, name="Mine").pk,
            "team_collection": team_collection.pk,
            "share_link": team_collection.share_links.get().pk,
            "share_token": share_path.strip("/").rsplit("/", 1)[1],
        },
    }


def client_for(role: str, world) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    user = world["users"][role]
    client.force_login(user)
    if role == "deactivated":
        # Deactivated after logging in: the session from before must stop working.
        User.objects.filter(pk=user.pk).update(is_active=False)
    return client


def outcome(response) -> int | str:
    if response.status_code == 302:
        location = response["Location"]
        return "login" if "/login/" in location else "done"
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_role_gets_what_the_table_says(case: Case, role: str, world):
    client = client_for(role, world)
    url = case.url.format(**world["ids"])
    data = {key: value.format(**world["ids"]) for key, value in case.data}
    if case.from_page:
        nonce = re.search(r'name="form_nonce" value="([^"]+)"', client.get(url).content.decode())
        data["form_nonce"] = nonce[1] if nonce else ""
    response = client.get(url) if case.method == "GET" else client.post(url, data)
    assert outcome(response) == case.expect[role], (
        f"{role} {case.method} {url}: got {response.status_code} {response.get('Location', '')}"
    )
