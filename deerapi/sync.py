"""Compare DeerAPI's model list with DeerWeb's models, and record what differs.

`GET /v1/models` lists every model DeerAPI sells (chat models too), so "new"
ids are only those from an owner DeerWeb already knows (black-forest-labs/,
ideogram-ai/, …, and the owners of admin-added models); "missing" are catalog
or admin-added ids DeerAPI no longer lists. Used by `manage.py deerapi_models`
and by the admin's button (through a Celery task): one function, one audit entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from catalog import specs as catalog
from catalog.models import ModelConfig
from deerapi.client import DeerAPIClient, DeerAPIError, get_client

if TYPE_CHECKING:
    from predictions.models import User

logger = logging.getLogger(__name__)

ACTION = "models.sync"


@dataclass(frozen=True)
class ModelsReport:
    missing: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    listed: int = 0
    error: str = ""

    def as_audit(self) -> dict[str, object]:
        return {"missing": self.missing, "new": self.new, "listed": self.listed, "error": self.error}


def models_compare(listed: list[str], known: set[str]) -> ModelsReport:
    """Which known ids DeerAPI no longer lists, and which listed ids are new from known owners."""
    offered = set(listed)
    owners = {model_id.split("/", 1)[0] for model_id in known if "/" in model_id}
    new = sorted(m for m in offered - known if "/" in m and m.split("/", 1)[0] in owners)
    return ModelsReport(missing=sorted(known - offered), new=new, listed=len(offered))


def models_sync(*, actor: User | None = None, client: DeerAPIClient | None = None) -> ModelsReport:
    """Ask DeerAPI which models it lists, compare, and record the report in the audit log.

    A failure to reach DeerAPI is recorded too, so the admin sees why there is no report.
    """
    known = set(catalog.MODELS) | set(ModelConfig.objects.values_list("model_id", flat=True))
    try:
        listed = (client or get_client()).list_models()
    except DeerAPIError as exc:
        logger.warning("DeerAPI model list failed: %s", exc.message)
        report = ModelsReport(error=_("DeerAPI's model list could not be read: %(msg)s") % {"msg": exc.message})
    else:
        report = models_compare(listed, known)
    summary = report.error or _("%(missing)d missing, %(new)d new of %(listed)d listed") % {
        "missing": len(report.missing),
        "new": len(report.new),
        "listed": report.listed,
    }
    with transaction.atomic():
        audit_record(actor=actor, action=ACTION, target=ModelConfig, summary=summary, after=report.as_audit())
    logger.info("models sync: %s", summary)
    return report
