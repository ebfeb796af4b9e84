"""Predictions ready for review, made straight in the database (no pipeline, no quota)."""

from __future__ import annotations

import io
from datetime import datetime

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from predictions.models import Prediction, PredictionOutput, Prompt, Status, User

SCHNELL = "black-forest-labs/flux-schnell"
PRO = "black-forest-labs/flux-1.1-pro"


def png(color: str = "red", size: int = 16) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, "PNG")
    return buffer.getvalue()


def finished_prediction(
    owner: User,
    *,
    prompt: str = "a red deer in the snow",
    model_id: str = SCHNELL,
    outputs: int = 1,
    created_at: datetime | None = None,
    **fields,
) -> Prediction:
    """A succeeded (unless `status` says otherwise) prediction with stored images and thumbnails."""
    now = created_at or timezone.now()
    prediction = Prediction.objects.create(
        owner=owner,
        prompt=Prompt.objects.create(owner=owner, text=prompt, created_at=now),
        model_id=model_id,
        input={"prompt": prompt, "seed": 7},
        status=fields.pop("status", Status.SUCCEEDED),
        created_at=now,
        completed_at=now,
        **fields,
    )
    for index in range(outputs):
        data = png()
        output = PredictionOutput(
            prediction=prediction,
            index=index,
            source_url=f"https://files.example/{prediction.pk}-{index}.png",
            content_type="image/png",
            size=len(data),
            width=16,
            height=16,
            checksum="0" * 64,
        )
        output.file.save(f"r-{prediction.pk}-{index}.png", ContentFile(data), save=False)
        output.thumbnail.save(f"r-{prediction.pk}-{index}.webp", ContentFile(data), save=False)
        output.save()
    return prediction
