"""`{% thumbnail_img output alt sizes %}`: an output as a square tile, sharp on high-DPI screens.

The stored thumbnail is the 1x source and the stored image the larger one, in a `srcset` the
browser picks from by the tile's width (`sizes`) and the screen's density. The tile is never
wider than the larger source: its `width`/`height` attributes cap it (with `max-width: 100%`
in app.css), so a small image is not stretched. Built with format_html, not a template: grids
show dozens of tiles.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from predictions.models import PredictionOutput
from predictions.storing import THUMBNAIL_SIZE

register = template.Library()


def thumbnail_size(width: int, height: int) -> tuple[int, int]:
    """The size of the thumbnail the pipeline makes: fitted into THUMBNAIL_SIZE, never enlarged."""
    box_width, box_height = THUMBNAIL_SIZE
    scale = min(1.0, box_width / width, box_height / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


@register.simple_tag
def thumbnail_img(output: PredictionOutput, alt: str, sizes: str) -> SafeString:
    """The tile's <img>. Reads the output's index, size and thumbnail name only: no file is opened."""
    thumbnail = reverse("predictions:thumbnail", args=[output.prediction_id, output.index])
    if not (output.width and output.height):  # an SVG: one source, drawn at any size
        return format_html('<img src="{}" alt="{}" loading="lazy" class="scalable">', thumbnail, alt)
    # Sources are described by their shorter side: the tile is a square the image covers,
    # so that side is what must match the tile's width.
    side = min(output.width, output.height)
    thumbnail_side = min(thumbnail_size(output.width, output.height))
    if not output.thumbnail or side <= thumbnail_side:
        return format_html('<img src="{}" alt="{}" loading="lazy" width="{}" height="{}">', thumbnail, alt, side, side)
    image = reverse("predictions:output", args=[output.prediction_id, output.index])
    return format_html(
        '<img src="{}" srcset="{} {}w, {} {}w" sizes="{}" alt="{}" loading="lazy" width="{}" height="{}">',
        thumbnail,
        thumbnail,
        thumbnail_side,
        image,
        side,
        sizes,
        alt,
        side,
        side,
    )
