"""The prompt library: a member's prompts saved under a name.

A prompt with a non-empty `name` is in its owner's library. Saving a prediction's
prompt names that very row, so every prediction made from it stays linked;
removing a prompt from the library only clears its name (predictions keep it).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from predictions.models import Prediction, Prompt, User


class PromptNameTaken(ValueError):
    """The member already has a prompt with that name in the library."""


def _name_free(owner: User, name: str, *, except_pk: int | None = None) -> None:
    taken = Prompt.objects.filter(owner=owner, name=name)
    if except_pk is not None:
        taken = taken.exclude(pk=except_pk)
    if taken.exists():
        raise PromptNameTaken(_("You already have a prompt named “%(name)s”.") % {"name": name})


def prompt_save(*, owner: User, name: str, text: str) -> Prompt:
    """A new prompt in the owner's library."""
    with transaction.atomic():
        _name_free(owner, name)
        return Prompt.objects.create(owner=owner, text=text, name=name, created_at=timezone.now())


def prompt_save_from_prediction(*, owner: User, prediction: Prediction, name: str) -> Prompt:
    """Put a prediction's prompt in the owner's library under `name`.

    The member's own prompt is named in place (so its predictions link to the
    library entry); a teammate's prompt (seen in the gallery) is copied.
    """
    prompt = prediction.prompt
    if prompt.owner_id != owner.pk:
        return prompt_save(owner=owner, name=name, text=prompt.text)
    with transaction.atomic():
        _name_free(owner, name, except_pk=prompt.pk)
        Prompt.objects.filter(pk=prompt.pk, owner=owner).update(name=name)
    prompt.name = name
    return prompt


def prompt_rename(prompt: Prompt, name: str) -> None:
    with transaction.atomic():
        _name_free(prompt.owner, name, except_pk=prompt.pk)
        Prompt.objects.filter(pk=prompt.pk).update(name=name)
    prompt.name = name


def prompt_forget(prompt: Prompt) -> None:
    """Take a prompt out of the library; it stays with the predictions that used it."""
    Prompt.objects.filter(pk=prompt.pk).update(name="")
    prompt.name = ""
