"""The API tokens page (/accounts/tokens/): a member's own tokens, a new one shown once,
revoking; an admin sees and revokes everyone's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from accounts.tokens import token_authenticate, token_create, token_revoke
from tests.world import FROZEN_NOW

pytestmark = pytest.mark.django_db
PAGE = "/accounts/tokens/"


def create(client: Client, data: dict[str, str], **headers: str):
    """The form as a browser sends it: the page first (it holds the form's one-time nonce), then the POST."""
    page = client.get(PAGE, **headers).content.decode()
    nonce = re.search(r'name="form_nonce" value="([^"]+)"', page)
    assert nonce, "the form carries its nonce"
    return client.post(PAGE, {**data, "form_nonce": nonce[1]}, **headers)


def revoke_url(token: ApiToken) -> str:
    return reverse("accounts:token_revoke", args=[token.pk])


def test_the_page_is_reached_from_the_account_menu_and_asks_anonymous_visitors_to_log_in(member_client):
    assert reverse("accounts:tokens") == PAGE
    assert Client().get(PAGE)["Location"].startswith("/accounts/login/")
    html = member_client.get(reverse("predictions:list")).content.decode()
    menu = html[html.index("account-menu-body") :]
    assert f'<a href="{PAGE}">API tokens</a>' in menu[: menu.index("</div>")]


def test_a_member_sees_their_own_tokens_and_no_one_elses(member_client, member, other_member):
    with time_machine.travel(FROZEN_NOW, tick=False):
        mine, raw = token_create(member, "laptop script", read_only=True, expires_at=FROZEN_NOW + timedelta(days=30))
        token_authenticate(raw, address="203.0.113.9")
    token_create(member, "old one")[0]
    token_revoke(ApiToken.objects.get(name="old one"), by=member)
    theirs, _raw = token_create(other_member, "bobs secret script")

    html = member_client.get(PAGE).content.decode()

    assert "laptop script" in html and f"<code>{mine.prefix}…</code>" in html
    assert "Read-only" in html and "2025-07-20 12:00" in html, "expires"
    assert "2025-06-20 12:00" in html and "from 203.0.113.9" in html, "last used"
    assert "old one" in html and "Revoked" in html
    assert html.count('action="/accounts/tokens/') == 2, "the form, and one revoke button: the revoked has none"
    assert "bobs secret script" not in html and theirs.prefix not in html
    assert "Other members" not in html
    assert raw not in html and mine.key_hash not in html


def test_a_new_token_is_shown_once_on_the_answer_and_never_again(member_client, member):
    response = create(member_client, {"name": "laptop script", "expires": "90"})

    assert response.status_code == 200, "the answer itself, not a redirect to a URL"
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=member)
    raw = response.context["raw"]
    html = response.content.decode()
    assert f'value="{raw}"' in html
    assert "Copy it now: it will not be shown again." in html
    assert token_authenticate(raw) == token

    again = member_client.get(PAGE).content.decode()
    assert raw not in again and raw[12:] not in again
    assert f"<code>{token.prefix}…</code>" in again
    assert all(raw[12:] not in session.session_data for session in Session.objects.all())
    assert raw[12:] not in str(list(member_client.cookies.values()))


def test_sending_the_same_form_again_makes_no_second_token_and_shows_none(member_client, member):
    page = member_client.get(PAGE).content.decode()
    nonce = re.search(r'name="form_nonce" value="([^"]+)"', page)[1]
    data = {"name": "laptop script", "expires": "90", "form_nonce": nonce}
    first = member_client.post(PAGE, data)
    again = member_client.post(PAGE, data, follow=True)

    assert first.status_code == 200 and ApiToken.objects.filter(user=member).count() == 1
    assert again.redirect_chain == [(PAGE, 302)]
    assert "That form was sent already" in again.content.decode()
    assert first.context["raw"] not in again.content.decode()
    assert member_client.post(PAGE, {"name": "no page first", "expires": "90"}).status_code == 302
    assert ApiToken.objects.filter(user=member).count() == 1


def test_the_form_sets_expiry_and_read_only(member_client, member):
    with time_machine.travel(FROZEN_NOW, tick=False):
        create(member_client, {"name": "dashboard", "expires": "30", "read_only": "on"})
        create(member_client, {"name": "forever", "expires": "0"})
        create(member_client, {"name": "yearly", "expires": "365"})

    tokens = {token.name: token for token in ApiToken.objects.filter(user=member)}
    assert tokens["dashboard"].expires_at == FROZEN_NOW + timedelta(days=30) and tokens["dashboard"].read_only
    assert tokens["forever"].expires_at is None and not tokens["forever"].read_only
    assert tokens["yearly"].expires_at == FROZEN_NOW + timedelta(days=365)
    assert all(token.created_by == member for token in tokens.values())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "expires": "90"}, "This field is required."),
        ({"name": "x" * 101, "expires": "90"}, "at most 100 characters"),
        ({"name": "laptop", "expires": "7"}, "Select a valid choice."),
    ],
)
def test_a_bad_form_comes_back_with_its_message_and_makes_nothing(member_client, data, message):
    response = create(member_client, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_member_revokes_their_own_token_and_it_stops_working(member_client, member):
    token, raw = token_create(member, "laptop")

    response = member_client.post(revoke_url(token), follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    assert "The token “laptop” is revoked: it no longer works." in response.content.decode()
    assert token_authenticate(raw) is None


def test_a_member_cannot_revoke_another_members_token(member_client, other_member):
    token, raw = token_create(other_member, "bobs script")

    assert member_client.post(revoke_url(token)).status_code == 404
    assert member_client.get(revoke_url(token)).status_code == 405
    assert token_authenticate(raw) is not None


def test_revoking_needs_the_csrf_token(member, member_client):
    token, raw = token_create(member, "laptop")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    assert strict.post(revoke_url(token)).status_code == 403
    assert token_authenticate(raw) is not None


def test_an_admin_sees_every_members_tokens_and_revokes_any(admin_client, admin_user, member, other_member):
    token_create(admin_user, "admins own")
    alice, alice_raw = token_create(member, "alice script")
    token_create(other_member, "bob script", by=admin_user)

    html = admin_client.get(PAGE).content.decode()
    others = html[html.index("Other members") :]
    assert "admins own" in html[: html.index("Other members")] and "admins own" not in others
    assert "alice script" in others and "bob script" in others and "by dora" in others
    assert "<td>alice</td>" in others and "<td>bob</td>" in others

    assert admin_client.post(revoke_url(alice)).status_code == 302
    assert token_authenticate(alice_raw) is None


def test_the_token_list_runs_the_same_few_queries_however_many_tokens(
    admin_client, admin_user, member, other_member, django_assert_max_num_queries
):
    for user in (admin_user, member, other_member):
        token_create(user, "one", by=admin_user)
    with django_assert_max_num_queries(10) as few:
        admin_client.get(PAGE)
    for user in (admin_user, member, other_member):
        for n in range(5):
            token_create(user, f"more {n}", by=user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(PAGE).status_code == 200


def test_the_page_and_a_new_token_in_chinese(member_client):
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
    html = member_client.get(PAGE, **chinese).content.decode()
    assert "API 令牌" in html and "API tokens" not in html
    created = create(member_client, {"name": "脚本", "expires": "0"}, **chinese).content.decode()
    assert "Copy it now" not in created and "不会再次显示" in created
