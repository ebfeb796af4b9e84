"""The review part of a prediction's page: state, rejection reason, privacy toggle, reviewer and admin buttons."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reviews import services as reviews
from tests.world import finished_prediction

pytestmark = pytest.mark.django_db


def page(client, user, prediction) -> str:
    client.force_login(user)
    response = client.get(prediction.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_the_owner_sees_the_rejection_reason_and_that_it_is_out_of_the_gallery(client, member, reviewer):
    prediction = finished_prediction(member)
    reviews.review_reject(prediction, by=reviewer, reason=reviews.reject_reason("prompt", "no antlers"))

    html = page(client, member, prediction)

    assert 'data-review-state="rejected"' in html
    assert "Does not match the prompt — no antlers" in html
    assert "not shown in the team gallery" in html
    assert f'src="/predictions/{prediction.pk}/outputs/0/"' in html, "the owner still sees the images"


def test_an_automatic_approval_says_so(client, member):
    prediction = finished_prediction(member)
    reviews._decide([prediction.pk], "approved", ("pending",), by=None, reason="", action="prediction.approve")
    html = page(client, member, prediction)
    assert 'data-review-state="approved"' in html
    assert "automatically" in html


def test_the_owner_has_the_privacy_toggle_and_others_do_not(client, member, reviewer):
    prediction = finished_prediction(member)
    toggle = reverse("gallery:private", args=[prediction.pk])

    owner_html = page(client, member, prediction)
    assert toggle in owner_html and 'data-private="0"' in owner_html
    assert "once a reviewer approves it" in owner_html
    assert toggle not in page(client, reviewer, prediction)

    reviews.prediction_set_private(prediction, True, by=member)
    assert 'data-private="1"' in page(client, member, prediction)


def test_a_reviewer_can_decide_from_the_page_and_a_member_cannot(client, member, reviewer):
    prediction = finished_prediction(member)
    approve = f'value="approve:{prediction.pk}"'
    assert approve in page(client, reviewer, prediction)
    assert approve not in page(client, member, prediction)

    client.force_login(reviewer)
    response = client.post(
        reverse("review:decide"),
        {
            "one": f"approve:{prediction.pk}",
            "next": prediction.get_absolute_url(),
        },
    )
    assert response["Location"] == prediction.get_absolute_url()
    assert approve not in page(client, reviewer, prediction), "decided: the buttons go"


def test_only_an_admin_is_offered_to_delete_a_rejected_predictions_files(client, member, reviewer, admin_user):
    prediction = finished_prediction(member)
    reviews.review_reject(prediction, by=reviewer, reason="no")
    delete = reverse("review:delete_files", args=[prediction.pk])
    assert delete in page(client, admin_user, prediction)
    assert delete not in page(client, reviewer, prediction)
    assert delete not in page(client, member, prediction)
