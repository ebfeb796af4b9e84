"""What a finished prediction's card or tile shows that can still change: the cache keys of the
grids other apps render from common/rows.py (the team gallery, the review queue, a collection).

A key holds every value its template shows, plus the prompt's id and the creation time, which
make it the same prediction where a database made anew uses ids again (SQLite). The language,
time zone and URL prefix are added by common/rows.py; what a page passes to every card (the
page's own address, whether the viewer owns the collection) is in its context, which is in the key.
"""

from __future__ import annotations

from predictions.models import Prediction, PredictionOutput


def output_key(output: PredictionOutput) -> tuple[object, ...]:
    """An output as a tile shows it: its thumbnail may be made after the output is stored."""
    return (output.pk, output.index, output.width, output.height, output.thumbnail.name)


def card_key(prediction: Prediction) -> tuple[object, ...]:
    """A card of a finished prediction (gallery, review queue): prompt, member, model, creation
    time and its outputs' thumbnails. Needs the prompt, the owner and the outputs prefetched
    (`selectors.with_cards`)."""
    return (
        prediction.pk,
        prediction.prompt_id,
        prediction.prompt.text,
        prediction.created_at,
        prediction.model_id,
        prediction.owner.get_username(),
        tuple(output_key(output) for output in prediction.outputs.all()),
    )
