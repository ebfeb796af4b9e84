"""Storing an SVG a provider made: its XML is read without expanding or fetching entities."""

from __future__ import annotations

import pytest
from django.utils import timezone

from predictions import storing
from predictions.models import Prediction, Status
from tests.world import finished_prediction

pytestmark = pytest.mark.django_db
URL = "https://files.example/out-0.svg"
# "Billion laughs": each entity is ten of the one before, so &l8; is 10^8 times "lol".
LAUGHS = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 9))
BOMB = f"""<?xml version="1.0"?><!DOCTYPE svg [{LAUGHS}]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&l8;</text></svg>"""
EXTERNAL = """<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&secret;</text></svg>"""
PLAIN = """<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"
"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>"""


def store(member, monkeypatch, svg: str) -> Prediction:
    """A succeeded prediction whose one output is `svg`, stored by the pipeline's store step."""
    prediction = finished_prediction(
        member, outputs=0, status=Status.STORING, remote_output=[URL], next_poll_at=timezone.now()
    )
    monkeypatch.setattr(storing, "_download", lambda url: (svg.encode(), "image/svg+xml"))
    storing.prediction_store_outputs(prediction.pk)
    return Prediction.objects.get(pk=prediction.pk)


@pytest.mark.parametrize("svg", [BOMB, EXTERNAL], ids=["entity-expansion", "external-entity"])
def test_an_svg_declaring_xml_entities_fails_the_prediction_and_is_not_stored(member, monkeypatch, svg):
    prediction = store(member, monkeypatch, svg)
    assert prediction.status == Status.FAILED
    assert "declares XML entities" in prediction.error
    assert not prediction.outputs.exists()


def test_an_svg_with_a_doctype_and_no_entities_is_stored(member, monkeypatch):
    prediction = store(member, monkeypatch, PLAIN)
    assert prediction.status == Status.SUCCEEDED
    assert prediction.outputs.get().content_type == "image/svg+xml"
