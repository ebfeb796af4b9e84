"""API tokens in the admin site: listed and searched, revoked by an action; never a hash
on screen, no "Add" and no delete."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from accounts import roles
from accounts.models import ApiToken
from accounts.tokens import token_authenticate, token_create
from audit.models import AuditEntry
from common import permissions
from predictions.models import User

pytestmark = pytest.mark.django_db
LIST = reverse("admin:accounts_apitoken_changelist")


def test_the_list_shows_and_finds_tokens_by_prefix_member_or_name(admin_client, member, other_member):
    alice, _raw = token_create(member, "laptop script")
    token_create(other_member, "ci job")

    listing = admin_client.get(LIST).content.decode()
    assert "laptop script" in listing and "ci job" in listing and alice.prefix in listing
    by_prefix = admin_client.get(LIST, {"q": alice.prefix}).content.decode()
    assert "laptop script" in by_prefix and "ci job" not in by_prefix
    assert "ci job" in admin_client.get(LIST, {"q": "bob"}).content.decode()


def test_a_tokens_page_shows_no_hash_and_cannot_be_saved(admin_client, member):
    token, raw = token_create(member, "laptop script")

    page = admin_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
    assert "laptop script" in page and token.prefix in page
    assert token.key_hash not in page and raw not in page and "SHA-256" not in page
    assert 'name="_save"' not in page and 'name="name"' not in page


def test_no_token_is_added_or_deleted_in_the_admin(admin_client, member):
    token, _raw = token_create(member, "laptop script")

    assert admin_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    delete = reverse("admin:accounts_apitoken_delete", args=[token.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert "delete_selected" not in admin_client.get(LIST).content.decode()
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_revoke_action_revokes_the_selected_tokens_and_audits_each(admin_client, admin_user, member, other_member):
    alice, alice_raw = token_create(member, "laptop script")
    bob, bob_raw = token_create(other_member, "ci job")
    kept, kept_raw = token_create(other_member, "kept")

    response = admin_client.post(
        LIST, {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [alice.pk, bob.pk]}, follow=True
    )

    assert "2 tokens revoked." in response.content.decode()
    assert token_authenticate(alice_raw) is None and token_authenticate(bob_raw) is None
    assert token_authenticate(kept_raw) is not None
    assert AuditEntry.objects.filter(action="token.revoke", actor=admin_user).count() == 2


def test_an_admin_by_role_not_superuser_sees_and_revokes_tokens(member, other_member):
    roles.user_role_set(member, permissions.ADMIN, by=None)
    client = Client()
    client.force_login(User.objects.get(pk=member.pk))
    bob, bob_raw = token_create(other_member, "ci job")

    assert "API tokens" in client.get(reverse("admin:index")).content.decode()
    client.post(LIST, {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [bob.pk]})
    assert token_authenticate(bob_raw) is None
