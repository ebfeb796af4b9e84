"""A member's notifications: the header's count (no query of its own), the list, marking read."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications import messages, services
from notifications.models import Notification

PARAMS = {"threshold": 80, "spent": "$0.04", "budget": "$0.05", "resets": "2025-07-01T00:00:00+00:00"}


def notify(user, n: int = 1) -> list[Notification]:
    return [
        services.notifications_create([user.pk], messages.BUDGET_MEMBER, PARAMS, url=reverse("usage:mine"))[0]
        for _ in range(n)
    ]


def test_the_header_counts_the_members_unread_notifications(member_client, member, other_member):
    notify(member, 2)
    notify(other_member)
    html = member_client.get(reverse("predictions:list")).content.decode()
    assert html.count('<span aria-hidden="true">2</span>') == 3, "beside the name, on Menu, in the account menu"
    assert "2 unread notifications" in html


def test_the_header_count_adds_no_query_to_a_page(member_client, member, django_assert_max_num_queries):
    with django_assert_max_num_queries(50) as without:
        member_client.get(reverse("predictions:list"))
    notify(member, 3)
    with django_assert_max_num_queries(len(without.captured_queries)):
        html = member_client.get(reverse("predictions:list")).content.decode()
    assert "3 unread notifications" in html


def test_the_list_shows_the_text_in_the_readers_language(member_client, member):
    notify(member)
    html = member_client.get(reverse("notifications:list")).content.decode()
    assert "Your spending reached 80% of your budget: $0.04 of $0.05 committed" in html
    assert "It starts again on July 1, 2025, midnight UTC." in html
    html = member_client.get(reverse("notifications:list"), headers={"accept-language": "zh-hans"}).content.decode()
    assert "你的支出已达到预算的 80%" in html
    assert "预算将于 2025年7月1日 00:00 UTC 重新开始" in html


def test_a_member_sees_only_their_own_notifications(member_client, other_member):
    notify(other_member)
    html = member_client.get(reverse("notifications:list")).content.decode()
    assert "No notifications yet" in html


def test_marking_one_read_leaves_the_others_unread(member_client, member):
    first, second = notify(member, 2)
    response = member_client.post(reverse("notifications:read"), {"id": first.pk})
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None


def test_each_rows_button_posts_its_id_through_the_pages_one_form(member_client, member):
    first, second = notify(member, 2)
    html = member_client.get(reverse("notifications:list")).content.decode()
    main = html[html.index("<main") :]
    assert main.count('name="csrfmiddlewaretoken"') == 2, "the page's two forms: read all, and read one"
    assert f'<button type="submit" form="read-one" name="id" value="{first.pk}"' in html
    member_client.post(reverse("notifications:read"), {"id": first.pk})
    html = member_client.get(reverse("notifications:list")).content.decode()  # rows from the cache
    assert f'name="id" value="{first.pk}"' not in html and f'name="id" value="{second.pk}"' in html
    assert html.count("notification-unread") == 1


def test_marking_all_read(member_client, member):
    notify(member, 3)
    member_client.post(reverse("notifications:read"))
    assert not Notification.objects.filter(recipient=member, read_at__isnull=True).exists()
    assert "data-notifications-badge" not in member_client.get(reverse("notifications:list")).content.decode()


def test_a_member_cannot_mark_another_members_notification_read(member_client, other_member):
    (theirs,) = notify(other_member)
    member_client.post(reverse("notifications:read"), {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("value", ["abc", "", "-1"])
def test_a_bad_id_changes_nothing(member_client, member, value):
    notify(member)
    assert member_client.post(reverse("notifications:read"), {"id": value}).status_code == 302
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_the_list_costs_the_same_number_of_queries_for_few_or_many(
    member_client, member, django_assert_max_num_queries
):
    notify(member, 2)
    with django_assert_max_num_queries(20) as few:
        member_client.get(reverse("notifications:list"))
    Notification.objects.bulk_create(
        [Notification(recipient=member, kind=messages.BUDGET_MEMBER, params=PARAMS) for _ in range(120)]
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = member_client.get(reverse("notifications:list")).content.decode()
    assert "Page 1 of 3" in html


def test_the_list_needs_a_login(client):
    assert client.get(reverse("notifications:list")).status_code == 302
