"""The playground at /predictions/new/: the form beside this browser session's results.

The session keeps the ids of the predictions submitted from the form (newest first, at most
RESULTS_MAX), so the results column survives a reload; only the member's own are shown. With
JavaScript the form posts by fetch and gets JSON (`common.requests.wants_json`): the new result's card and the
cost preview refreshed, or the form's errors by field. Without it, the POST redirects as before.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, JsonResponse
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from billing import services as billing
from catalog.inputs import ModelSpec
from common import rows
from predictions import cards, selectors
from predictions.forms import PredictionForm
from predictions.models import Prediction, User

CARD = "predictions/_playground_result.html"
SESSION_KEY = "playground"
RESULTS_MAX = 50
# Where a running card's cached HTML takes its elapsed time (see `results`). NUL cannot come from
# a member's text: Django's form fields refuse it, and PostgreSQL's text cannot hold it.
ELAPSED_HOLE = "\x00elapsed\x00"


def result_remember(session: SessionBase, pk: int) -> None:
    """Put a prediction submitted from the playground at the top of this session's results."""
    ids = [pk, *(other for other in result_ids(session) if other != pk)]
    session[SESSION_KEY] = ids[:RESULTS_MAX]


def result_ids(session: SessionBase) -> list[int]:
    stored = session.get(SESSION_KEY)
    if not isinstance(stored, list):
        return []
    return [pk for pk in stored if isinstance(pk, int) and not isinstance(pk, bool)][:RESULTS_MAX]


def results(user: User, session: SessionBase, models: list[ModelSpec]) -> list[SafeString]:
    """This session's results as cards, each from the cache (common/rows.py) while what it shows is
    the same. A running card's elapsed time changes every second: its cached HTML holds a hole
    (ELAPSED_HOLE) where the time is written on each visit."""
    names = {spec.id: spec.name for spec in models}
    found = selectors.playground_results(user, result_ids(session))
    shown = rows.rows_rendered(
        CARD,
        [result_row(p, names) for p in found],
        name="result",
        key=_card_key,
        context={"elapsed_hole": ELAPSED_HOLE},
    )
    return [
        mark_safe(card.replace(ELAPSED_HOLE, _elapsed(prediction))) if prediction.is_active else card  # noqa: S308
        for prediction, card in zip(found, shown, strict=True)
    ]


def _elapsed(prediction: Prediction) -> str:
    """What `_result_live.html` shows as a running prediction's elapsed time, escaped."""
    seconds = floatformat(prediction.duration, 0)
    return conditional_escape(gettext("%(s)s s") % {"s": seconds})


def _card_key(result: dict[str, Any]) -> tuple[object, ...]:
    """What a result's card shows that can still change (its elapsed time aside: ELAPSED_HOLE)."""
    prediction = result["prediction"]
    outputs = tuple(cards.output_key(output) for output in result["outputs"])
    return (
        prediction.pk,
        prediction.prompt_id,
        prediction.created_at,
        prediction.status,
        prediction.seed,
        prediction.error,
        result["model_name"],
        outputs,
    )


def result_row(prediction: Prediction, names: dict[str, str]) -> dict[str, Any]:
    return {
        "prediction": prediction,
        "outputs": list(prediction.outputs.all()),
        "model_name": names.get(prediction.model_id, prediction.model_id),
    }


# --- What this run will cost ----------------------------------------------------------------


@dataclass(frozen=True)
class RunCost:
    model: ModelSpec
    images: int
    cost: Decimal


def run_cost(spec: ModelSpec, num_outputs: object) -> RunCost:
    """The cost of a run of `spec` asking for `num_outputs` images (as typed: text, a number or
    nothing), by the function the reservation charges with."""
    input: dict[str, Any] = {}
    # Not a number: the model's default (the form says what is wrong on submit).
    with suppress(ValueError):
        input["num_outputs"] = int(str(num_outputs))
    return RunCost(spec, billing.images_requested(spec, input), billing.run_cost(spec, input))


def form_run_cost(form: PredictionForm) -> RunCost:
    """The cost of what the form holds now: its posted `num_outputs`, or its initial one."""
    value = form["num_outputs"].value() if "num_outputs" in form.fields else None
    return run_cost(form.spec, value)


def cost_html(request: HttpRequest, run: RunCost, budget: billing.BudgetStatus | None = None) -> str:
    """The cost preview; `budget` when the caller has read it already (else the template reads it)."""
    context: dict[str, Any] = {"run": run}
    if budget is not None:
        context["member_budget"] = budget
    return render_to_string("predictions/_run_cost.html", context, request=request)


# --- Answers to the playground's script -------------------------------------------------------------


def submitted_response(request: HttpRequest, prediction: Prediction, form: PredictionForm) -> JsonResponse:
    """201: the new result's card, and the cost preview and the header's budget with what is left now."""
    row = result_row(prediction, {form.spec.id: form.spec.name})
    card = render_to_string(CARD, {"result": row}, request=request)
    # The preview and the header show the same budget: read once, not once per template.
    budget = billing.budget_status(prediction.owner)
    body = {
        "id": prediction.pk,
        "result": card,
        "cost": cost_html(request, form_run_cost(form), budget),
        "budget": render_to_string("usage/_header_budget.html", {"member_budget": budget}, request=request),
    }
    return JsonResponse(body, status=201)


def errors_response(errors: dict[str, list[str]]) -> JsonResponse:
    """400: the messages by field name ("__all__" for the form as a whole)."""
    return JsonResponse({"errors": errors}, status=400)


def form_errors(form: PredictionForm) -> dict[str, list[str]]:
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}
