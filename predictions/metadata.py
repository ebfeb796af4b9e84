"""What a downloaded output says about how it was made.

A PNG carries a `parameters` text chunk in the layout AUTOMATIC1111's PNG Info and Civitai
read, and a `deerweb` chunk with the record as JSON; a JPEG or WebP carries the same record
as XMP. The stored file is never changed: the metadata goes into the bytes being sent.
"""

from __future__ import annotations

import json
from typing import Any

from billing.models import TeamSettings
from catalog import specs as catalog
from common import image_metadata
from predictions import uploads
from predictions.models import Prediction, PredictionOutput

UPLOADED = "(uploaded image)"  # an upload's URL carries its token, a data URI the whole image
# DeerAPI input names and the labels AUTOMATIC1111 gives the same settings.
A1111_LABELS = {
    "num_inference_steps": "Steps",
    "steps": "Steps",
    "scheduler": "Sampler",
    "sampler": "Sampler",
    "guidance": "CFG scale",
    "guidance_scale": "CFG scale",
    "cfg": "CFG scale",
}
NOT_PARAMETERS = {"prompt", "negative_prompt", "seed"}  # lines or fields of their own
EMBEDDABLE = {"image/png", "image/jpeg", "image/webp"}


def embedding_enabled() -> bool:
    """The team's privacy setting: downloads carry their metadata unless an admin turned it off."""
    value = TeamSettings.objects.filter(pk=1).values_list("embed_download_metadata", flat=True).first()
    return True if value is None else value


def _shareable(value: Any) -> Any:
    """An input value as the record shows it: uploads and inline images named, not copied."""
    if isinstance(value, str) and (value.startswith("data:") or uploads.input_token(value)):
        return UPLOADED
    if isinstance(value, list):
        return [_shareable(item) for item in value]
    if isinstance(value, dict):
        return {key: _shareable(item) for key, item in value.items()}
    return value


def prediction_record(prediction: Prediction) -> dict[str, Any]:
    """The fields a download or an archive describes a prediction by."""
    cost = prediction.actual_cost if prediction.actual_cost is not None else prediction.estimated_cost
    seed = prediction.seed if prediction.seed is not None else prediction.input.get("seed")
    return {
        "id": prediction.pk,
        "member": prediction.owner.get_username(),
        "model": prediction.model_id,
        "prompt": prediction.prompt.text,
        "inputs": _shareable(prediction.input),
        "seed": seed,
        "created": prediction.created_at.isoformat(),
        "cost": str(cost),
        "review_state": prediction.review_state,
    }


def _a1111_value(value: Any) -> str:
    """A value as AUTOMATIC1111 writes it: quoted (JSON) when it holds a comma, colon or quote."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ',:"\n') else text


def a1111_parameters(output: PredictionOutput, record: dict[str, Any]) -> str:
    """The `parameters` text: the prompt, a negative prompt line if any, then `Key: value, …` in
    AUTOMATIC1111's order (steps, sampler and CFG scale, seed, size, model), then the other inputs.
    Steps, sampler and CFG scale not in the inputs are the model's defaults, which DeerAPI used."""
    inputs: dict[str, Any] = record["inputs"]
    spec = catalog.get_model(record["model"])
    fields: dict[str, Any] = {}
    for name, label in A1111_LABELS.items():
        field = spec.field(name) if spec else None
        value = inputs.get(name, field.default if field else None)
        if value is not None and label not in fields:
            fields[label] = value
    if record["seed"] is not None:
        fields["Seed"] = record["seed"]
    if output.width and output.height:
        fields["Size"] = f"{output.width}x{output.height}"
    fields["Model"] = record["model"]
    for name, value in inputs.items():
        if name not in NOT_PARAMETERS and name not in A1111_LABELS and value not in (None, "", [], {}):
            fields.setdefault(name.replace("_", " ").capitalize(), value)
    lines = [record["prompt"]]
    if inputs.get("negative_prompt"):
        lines.append(f"Negative prompt: {inputs['negative_prompt']}")
    lines.append(", ".join(f"{label}: {_a1111_value(value)}" for label, value in fields.items()))
    return "\n".join(lines)


def output_with_metadata(output: PredictionOutput, data: bytes) -> bytes:
    """The stored bytes of `output` with its record in them; other kinds of file as they are."""
    if output.content_type not in EMBEDDABLE:
        return data
    record = prediction_record(output.prediction)
    record_json = json.dumps(record, ensure_ascii=False)
    try:
        if output.content_type == "image/png":
            parameters = a1111_parameters(output, record)
            return image_metadata.png_with_text(data, {"parameters": parameters, "deerweb": record_json})
        xmp = image_metadata.xmp_packet({"record": record_json})
        if output.content_type == "image/jpeg":
            return image_metadata.jpeg_with_xmp(data, xmp)
        return image_metadata.webp_with_xmp(data, xmp)
    except image_metadata.UnsupportedImage:
        return data  # a file DeerAPI labelled oddly still downloads, as it was stored
