"""The admin's settings for each model: enabled, price, schema and output shape."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutputShape(models.TextChoices):
    SINGLE = "single", _("One URL")
    LIST = "list", _("A list of URLs")
    SVG = "svg", _("One URL to an SVG file")


class ModelConfig(models.Model):
    """Admin settings for a DeerAPI model: overrides of the code catalog, or a
    model added by id with its input schema, without a deploy."""

    model_id = models.CharField(_("model id"), max_length=200, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    price = models.DecimalField(
        _("price per image (USD)"),
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Empty: the catalog's list price."),
    )
    name = models.CharField(_("display name"), max_length=120, blank=True, default="")
    vendor = models.CharField(_("vendor"), max_length=120, blank=True, default="")
    input_schema = models.JSONField(
        _("input schema"),
        default=dict,
        blank=True,
        help_text=_(
            "Only for models not in the built-in catalog: a JSON Schema object with 'properties' and 'required'."
        ),
    )
    output_shape = models.CharField(max_length=10, choices=OutputShape.choices, default=OutputShape.SINGLE)
    auto_approve = models.BooleanField(_("approve automatically"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "predictions_modelconfig"
        verbose_name = _("model")
        verbose_name_plural = _("models")
        ordering = ["model_id"]

    def __str__(self) -> str:
        return self.model_id
