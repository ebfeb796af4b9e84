"""templates/admin/base_site.html: DeerWeb's banners inside the Django admin too."""

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import TeamSettings

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["admin:index", "admin:predictions_prediction_changelist"]


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admins_see_deerapis_balance_and_key_warnings_in_the_admin(client, admin_user, page):
    TeamSettings.objects.update_or_create(
        pk=1, defaults={"deerapi_balance_empty_since": timezone.now(), "deerapi_key_rejected_since": timezone.now()}
    )
    client.force_login(admin_user)
    html = client.get(reverse(page)).content.decode()
    assert 'data-deerapi-alert="balance"' in html
    assert 'data-deerapi-alert="key"' in html
    assert "deerweb/admin.css" in html, "the banners are styled without inline style"


def test_without_a_warning_the_admin_shows_no_banner(client, admin_user, settings):
    settings.SANDBOX = False
    client.force_login(admin_user)
    html = client.get(reverse("admin:index")).content.decode()
    assert "data-deerapi-alert" not in html
    assert "data-sandbox" not in html


def test_the_sandbox_banner_shows_in_the_admin(client, admin_user, settings):
    settings.SANDBOX = True
    client.force_login(admin_user)
    assert "data-sandbox" in client.get(reverse("admin:index")).content.decode()
