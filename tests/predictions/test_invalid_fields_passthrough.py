"""A 422 from DeerAPI (its schema changed under us): the prediction fails with DeerAPI's message
for each input, shown on the prediction and next to the fields of "Edit and run"."""

import pytest
from django.urls import reverse

from predictions.models import Status
from tests.world import FLUX2, submit, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
PROBLEM = {
    "title": "Input validation failed",
    "status": 422,
    "detail": "- input.safety_tolerance: Must be less than or equal to 5\n"
    "- input.input_images.0: Does not match format",
    "invalid_fields": [
        {"type": "number_lte", "field": "input.safety_tolerance", "description": "Must be less than or equal to 5"},
        {"type": "format", "field": "input.input_images.0", "description": "Does not match format 'uri'"},
    ],
}


def test_deerapis_field_messages_reach_the_prediction_and_the_edit_form(worker, simulator, member_client, member):
    simulator.inject("create", status=422, body=PROBLEM)
    prediction = submit(member, FLUX2, prompt="a deer", safety_tolerance=5, input_images=["https://example.com/a.png"])
    prediction = wait_for(prediction, Status.FAILED)
    assert prediction.metrics["invalid_fields"] == {
        "safety_tolerance": "Must be less than or equal to 5",
        "input_images.0": "Does not match format 'uri'",
    }
    assert "Input validation failed" in prediction.error

    html = member_client.get(prediction.get_absolute_url()).content.decode()
    assert "DeerAPI refused these inputs:" in html
    assert "<dt><code>safety_tolerance</code></dt><dd>Must be less than or equal to 5</dd>" in html
    assert f'href="/predictions/new/?from={prediction.pk}"' in html

    form = member_client.get(reverse("predictions:new"), {"from": prediction.pk}).content.decode()
    for name, message in (
        ("safety_tolerance", "Must be less than or equal to 5"),
        ("input_images", "Does not match format &#x27;uri&#x27;"),
    ):
        box = form[form.rindex('<div class="field', 0, form.index(f'<label for="id_{name}">')) :]
        box = box[: box.index("</div>\n", box.index('class="error"'))]
        assert box.startswith('<div class="field has-error') and message in box, name
    assert "https://example.com/a.png</textarea>" in form, "the inputs are filled in to be corrected"
