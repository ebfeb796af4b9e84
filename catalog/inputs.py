"""What describes a model to DeerWeb: its input fields and its spec.

Plain Python (no database, no settings), so the simulator can use it too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

# Lazy: importing this module needs no settings; help texts are translated when shown.

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

FieldKind = Literal["string", "text", "integer", "number", "boolean", "enum", "uri", "uri_list"]
OutputShape = Literal["single", "list", "svg"]
OUTPUT_SHAPES: tuple[OutputShape, ...] = ("single", "list", "svg")


# Names the prediction form uses for itself; an admin-added model may not use them as inputs.
RESERVED_NAMES = frozenset({"model", "prompt_id", "source", "switch", "csrfmiddlewaretoken"})


@dataclass(frozen=True)
class InputField:
    name: str
    kind: FieldKind
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    # A lazy translation: kept out of ==, hash and repr, which would need settings (and vary by language).
    help: StrOrPromise = dataclasses.field(default="", compare=False, repr=False)
    required: bool = False
    max_items: int | None = None


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    vendor: str
    fields: tuple[InputField, ...]
    output: OutputShape
    price: Decimal
    # False: DeerAPI documents no input schema for this model; only the prompt
    # (and inputs we can justify) are offered, and the form says so.
    documented: bool = True
    # How the price is an estimate (per-megapixel or time billing), shown beside it.
    price_note: StrOrPromise = dataclasses.field(default="", compare=False, repr=False)

    def field(self, name: str) -> InputField | None:
        for item in self.fields:
            if item.name == name:
                return item
        return None

    @property
    def input_names(self) -> frozenset[str]:
        return frozenset(item.name for item in self.fields)

    @property
    def default_output_format(self) -> str:
        spec = self.field("output_format")
        if self.output == "svg":
            return "svg"
        return str(spec.default) if spec and spec.default else "png"

    @property
    def price_text(self) -> str:
        """The price per image for people: 0.0400 → "0.04", never in scientific notation."""
        text = format(self.price.normalize(), "f")
        return text if "." in text else f"{text}.00"

    @property
    def owner(self) -> str:
        """The id's owner part ("black-forest-labs"), or "" for ids without one."""
        return self.id.split("/", 1)[0] if "/" in self.id else ""
