"""/predictions/new/ as a playground: this session's results beside the form, the script's JSON
submissions, the cost preview (by the function the reservation charges with), "Use these inputs",
and the page's query count."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import MemberQuota, Period
from billing.services import format_usd
from predictions import playground
from predictions.models import Prediction, Status
from tests.world import PRO, SCHNELL, add_output, finished_prediction, make_prediction

pytestmark = pytest.mark.django_db
NEW = reverse("predictions:new")
COST = reverse("predictions:new_cost")
JSON = {"HTTP_ACCEPT": "application/json"}


def schnell_form(**changes: str) -> dict[str, str]:
    """What the browser posts from the FLUX.1 [schnell] form."""
    return {
        "model": SCHNELL,
        "prompt": "a deer",
        "aspect_ratio": "1:1",
        "num_outputs": "1",
        "megapixels": "1",
        "output_format": "webp",
        "output_quality": "80",
        "num_inference_steps": "4",
        "go_fast": "on",
        **changes,
    }


def results_shown(html: str) -> list[int]:
    """The ids of the results in the playground's column, top to bottom."""
    return [int(pk) for pk in re.findall(r'<li class="result" data-prediction-id="(\d+)"', html)]


def remember(client, *predictions: Prediction) -> None:
    """As if each was submitted from the playground in this browser session, in that order."""
    session = client.session
    for prediction in predictions:
        playground.result_remember(session, prediction.pk)
    session.save()


# --- The results of this session ----------------------------------------------------------------


def test_a_submission_by_the_script_stays_on_the_playground_and_its_result_is_listed_after_a_reload(
    member_client, member
):
    response = member_client.post(NEW, schnell_form(prompt="a stag at dawn"), **JSON)

    assert response.status_code == 201
    prediction = Prediction.objects.get()
    body = response.json()
    assert body["id"] == prediction.pk
    assert prediction.owner == member and prediction.status == Status.QUEUED
    assert results_shown(body["result"]) == [prediction.pk]
    assert f'data-live-url="/predictions/{prediction.pk}/live/?view=card"' in body["result"]
    assert "a stag at dawn" in body["result"]
    assert f'href="/predictions/new/?from={prediction.pk}"' in body["result"]

    for _reload in range(2):
        assert results_shown(member_client.get(NEW).content.decode()) == [prediction.pk]


def test_a_plain_submission_still_redirects_to_the_prediction_and_joins_the_results(member_client):
    response = member_client.post(NEW, schnell_form())

    prediction = Prediction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/predictions/{prediction.pk}/"
    assert results_shown(member_client.get(NEW).content.decode()) == [prediction.pk]


def test_results_are_newest_first_and_only_the_members_own(member_client, member, other_member):
    older, newer = make_prediction(member), make_prediction(member)
    theirs = make_prediction(other_member)
    remember(member_client, older, theirs, newer)

    assert results_shown(member_client.get(NEW).content.decode()) == [newer.pk, older.pk]


def test_the_session_keeps_the_latest_fifty_results(member_client, member):
    predictions = [make_prediction(member) for _ in range(playground.RESULTS_MAX + 2)]
    remember(member_client, *predictions)

    shown = results_shown(member_client.get(NEW).content.decode())
    assert shown == [p.pk for p in reversed(predictions)][: playground.RESULTS_MAX]


def test_another_browser_of_the_member_starts_with_an_empty_column(client, member):
    client.force_login(member)
    client.post(NEW, schnell_form(), **JSON)
    client.logout()
    client.force_login(member)

    html = client.get(NEW).content.decode()
    assert results_shown(html) == []
    assert "Nothing yet" in html


def test_a_finished_result_shows_its_outputs_status_and_seed(member_client, member):
    prediction = finished_prediction(member, outputs=2, seed=42)
    remember(member_client, prediction)

    html = member_client.get(NEW).content.decode()
    card = html[html.index('<li class="result"') :]
    assert 'data-prediction-status="succeeded"' in card
    assert "data-live-done" in card
    for index in (0, 1):
        assert f"/predictions/{prediction.pk}/outputs/{index}/thumbnail/" in card
    assert "<span data-seed>42</span>" in card


def test_a_running_card_shown_again_has_its_elapsed_time_now_and_follows_its_status(member_client, member):
    """Cards come from the cache (common/rows.py); a running one's elapsed time is written in on each visit."""
    running = make_prediction(member, status=Status.PROCESSING)
    remember(member_client, running)
    card_now = r'<span class="elapsed" data-since="\d+">(\d+) s</span>'
    assert re.findall(card_now, member_client.get(NEW).content.decode()) == ["0"]
    Prediction.objects.filter(pk=running.pk).update(created_at=running.created_at - timedelta(seconds=75))
    assert re.findall(card_now, member_client.get(NEW).content.decode()) == ["75"]
    zh = member_client.get(NEW, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert re.search(r'<span class="elapsed" data-since="\d+">75 秒</span>', zh)
    Prediction.objects.filter(pk=running.pk).update(status=Status.STORING, seed=42)
    html = member_client.get(NEW).content.decode()
    assert 'data-prediction-status="storing"' in html and "<span data-seed>42</span>" in html
    Prediction.objects.filter(pk=running.pk).update(status=Status.SUCCEEDED, completed_at=running.created_at)
    html = member_client.get(NEW).content.decode()
    assert "data-live-done" in html and 'class="elapsed"' not in html and "\x00" not in html


def test_the_card_view_of_the_live_part_is_what_a_result_refreshes_with(member_client, member):
    prediction = make_prediction(member, status=Status.PROCESSING)
    response = member_client.get(reverse("predictions:live", args=[prediction.pk]), {"view": "card"})

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert html.lstrip().startswith('<div class="result-status" data-live-status="processing">')
    assert "data-live-done" not in html


def test_the_playground_costs_the_same_number_of_queries_for_few_or_many_results(
    member_client, member, django_assert_max_num_queries
):
    few = [finished_prediction(member, outputs=2) for _ in range(3)]
    remember(member_client, *few)
    with django_assert_max_num_queries(14) as counted:
        assert member_client.get(NEW).status_code == 200
    many = [finished_prediction(member, outputs=2) for _ in range(20)]
    remember(member_client, *many)
    with django_assert_max_num_queries(len(counted.captured_queries)):
        html = member_client.get(NEW).content.decode()
    assert len(results_shown(html)) == 23


# --- Messages for the script ---------------------------------------------------------------------


def test_a_refused_form_comes_back_to_the_script_as_messages_by_field(member_client):
    response = member_client.post(NEW, schnell_form(prompt="", num_outputs="12"), **JSON)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["prompt"] == ["This field is required."]
    assert errors["num_outputs"] == ["Ensure this value is less than or equal to 4."]
    assert not Prediction.objects.exists()


def test_an_unknown_model_comes_back_to_the_script_as_a_message(member_client):
    response = member_client.post(NEW, {"model": "acme/nope", "prompt": "x"}, **JSON)

    assert response.status_code == 400
    assert response.json()["errors"]["model"][0].startswith("Unknown model “acme/nope”")


def test_a_budget_refusal_comes_back_to_the_script_for_the_whole_form(member_client, member):
    MemberQuota.objects.create(user=member, budget=Decimal("0.005"), period=Period.MONTH)

    response = member_client.post(NEW, schnell_form(num_outputs="2"), **JSON)

    assert response.status_code == 400
    (message,) = response.json()["errors"]["__all__"]
    assert message.startswith("Over your budget: this prediction costs about $0.006, and $0.005 of your")
    assert not Prediction.objects.exists()


# --- What this run will cost ------------------------------------------------------------------------


def shown_cost(html: str) -> str:
    match = re.search(r"<strong data-run-cost-amount>([^<]+)</strong>", html)
    assert match, "no cost preview"
    return match.group(1)


@pytest.mark.parametrize(("model", "num_outputs"), [(SCHNELL, "3"), (SCHNELL, "1"), (PRO, "")])
def test_the_preview_is_what_the_reservation_charges(member_client, model, num_outputs):
    preview = member_client.get(COST, {"model": model, "num_outputs": num_outputs})
    assert preview.status_code == 200
    assert preview["Cache-Control"] == "no-store"

    data = {"model": model, "prompt": "a deer"}
    if num_outputs:
        data = schnell_form(num_outputs=num_outputs)
    member_client.post(NEW, data, **JSON)
    prediction = Prediction.objects.get()
    assert shown_cost(preview.content.decode()) == format_usd(prediction.estimated_cost)


def test_the_preview_says_how_many_images_at_what_price(member_client):
    html = member_client.get(COST, {"model": SCHNELL, "num_outputs": "3"}).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()
    assert text.startswith("This run: about $0.009 (3 images × $0.003)")


def test_the_preview_costs_a_fixed_number_of_queries(member_client, member, django_assert_max_num_queries):
    MemberQuota.objects.create(user=member, budget=Decimal("1.00"), period=Period.MONTH)
    make_prediction(member)
    with django_assert_max_num_queries(6):
        assert member_client.get(COST, {"model": SCHNELL, "num_outputs": "2"}).status_code == 200


def test_the_preview_of_a_count_that_is_not_a_number_is_the_models_default(member_client):
    html = member_client.get(COST, {"model": SCHNELL, "num_outputs": "many"}).content.decode()
    assert shown_cost(html) == "$0.003"


def test_the_preview_of_an_unknown_model_is_a_message(member_client):
    response = member_client.get(COST, {"model": "acme/nope"})
    assert response.status_code == 404
    assert response.content.decode() == "This model is not available."


def test_the_form_shows_the_cost_and_what_is_left_of_the_budget_without_script(member_client, member):
    MemberQuota.objects.create(user=member, budget=Decimal("1.00"), period=Period.MONTH)
    make_prediction(member)  # reserves $0.003

    html = member_client.get(NEW).content.decode()
    preview = html[html.index("data-run-cost ") :]
    assert shown_cost(preview) == "$0.003"
    assert re.search(r"Left this month:\s*<strong>\$0.997</strong> of \$1.00", preview)


def test_the_preview_warns_when_the_run_costs_more_than_is_left(member_client, member):
    MemberQuota.objects.create(user=member, budget=Decimal("0.01"), period=Period.MONTH)
    html = member_client.get(COST, {"model": PRO}).content.decode()
    assert "More than is left of your budget: this run would be refused." in html
    assert "would be refused" not in member_client.get(COST, {"model": SCHNELL}).content.decode()


def test_the_preview_says_when_the_member_may_not_use_the_model(member_client, member):
    MemberQuota.objects.create(user=member, period=Period.MONTH, allowed_models=[SCHNELL])
    assert "may not use this model" in member_client.get(COST, {"model": PRO}).content.decode()
    assert "may not use this model" not in member_client.get(COST, {"model": SCHNELL}).content.decode()


def test_after_a_submission_the_preview_shows_what_is_left_now(member_client, member):
    MemberQuota.objects.create(user=member, budget=Decimal("1.00"), period=Period.MONTH)
    body = member_client.post(NEW, schnell_form(num_outputs="4"), **JSON).json()
    assert re.search(r"<strong>\$0.988</strong> of \$1.00", body["cost"])
    assert "data-budget-left" in body["budget"] and "$0.988" in body["budget"], "the header's budget too"


# --- Use these inputs ----------------------------------------------------------------------------------


def test_use_these_inputs_fills_the_form_with_the_results_model_and_inputs(member_client, member):
    prediction = make_prediction(member)
    Prediction.objects.filter(pk=prediction.pk).update(
        input={**prediction.input, "num_outputs": 3, "aspect_ratio": "16:9", "seed": 99}
    )
    remember(member_client, prediction)

    html = member_client.get(NEW, {"from": prediction.pk}).content.decode()
    assert re.search(rf'<option value="{SCHNELL}"[^>]*selected', html)
    assert '<option value="16:9" selected>' in html
    assert re.search(r'name="seed" value="99"', html)
    assert shown_cost(html) == "$0.009", "the preview is of the inputs the form starts with"
    assert results_shown(html) == [prediction.pk]


def test_use_these_inputs_of_another_members_private_prediction_is_404(member_client, other_member):
    theirs = make_prediction(other_member)
    assert member_client.get(NEW, {"from": theirs.pk}).status_code == 404


# --- In Simplified Chinese ---------------------------------------------------------------------------


def test_the_playground_speaks_simplified_chinese(member_client, member):
    prediction = finished_prediction(member)
    add_output(prediction, 1)
    remember(member_client, prediction)
    member_client.cookies["django_language"] = "zh-hans"

    html = member_client.get(NEW).content.decode()
    for english in ("Use these inputs", "This run: about", "Results", "newest first"):
        assert english not in html, english
