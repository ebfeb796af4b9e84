"""The admin site's list of apps (side navigation, index), kept per visitor's permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

pytestmark = pytest.mark.django_db
INDEX = "/admin/"


def test_the_app_list_follows_a_change_of_permissions(member):
    member.is_staff = True
    member.save(update_fields=["is_staff"])
    member.user_permissions.add(Permission.objects.get(codename="view_prediction"))
    client = Client()
    client.force_login(member)

    html = client.get(INDEX).content.decode()
    assert 'href="/admin/predictions/prediction/"' in html
    assert 'href="/admin/billing/ledgerentry/"' not in html

    member.user_permissions.add(Permission.objects.get(codename="view_ledgerentry"))
    html = client.get("/admin/predictions/prediction/").content.decode()
    assert 'href="/admin/billing/ledgerentry/"' in html, "the side navigation shows it at once"
    assert 'href="/admin/billing/ledgerentry/"' in client.get(INDEX).content.decode()

    member.user_permissions.remove(Permission.objects.get(codename="view_ledgerentry"))
    assert 'href="/admin/billing/ledgerentry/"' not in client.get(INDEX).content.decode()


def test_the_app_list_is_in_the_visitors_language(admin_client):
    link = 'href="/admin/predictions/prediction/"'
    assert f"{link}>Predictions</a>" in admin_client.get(INDEX).content.decode()
    assert f"{link}>生成任务</a>" in admin_client.get(INDEX, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"{link}>Predictions</a>" in admin_client.get(INDEX).content.decode()
