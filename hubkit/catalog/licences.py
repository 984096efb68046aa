"""What each base model's licence lets a user do with a fine-tune: its Hub id and whether merged
weights may be handed on.

A merged model (and a GGUF of it) carries the base's weights, so handing it on is redistribution
of the base; an adapter alone holds only the fine-tune's own weights. One entry per licence, keyed
by the name the catalog and the run database use.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hubkit.errors import PermissionDenied


@dataclass(frozen=True)
class Licence:
    """A base model's licence as the Hub names it and as far as redistribution goes."""

    name: str
    hub_id: str  # the Hub's ``license`` value; "other" with ``name`` for the rest
    merged_redistribution: bool
    link: str | None = None
    conditions: str = ""

    @property
    def hub_name(self) -> str | None:
        """``license_name`` for the card, needed only when ``hub_id`` is "other"."""
        return _slug(self.name) if self.hub_id == "other" else None


_LLAMA3 = ("Redistribution keeps the licence, shows \"Built with Meta Llama 3\", and the model's name "
           "begins with \"Llama 3\".")

_KNOWN = (
    Licence("Apache-2.0", "apache-2.0", True),
    Licence("MIT", "mit", True),
    Licence("Llama 3 Community License", "llama3", True,
            "https://www.llama.com/llama3/license/", _LLAMA3),
    Licence("Llama 3.2 Community License", "llama3.2", True,
            "https://www.llama.com/llama3_2/license/", _LLAMA3.replace("Llama 3", "Llama 3.2")),
    Licence("Llama 3 / Llama 3.2 Community License", "llama3", True,
            "https://www.llama.com/llama3/license/", _LLAMA3),
    Licence("CC-BY-NC-ND-4.0", "cc-by-nc-nd-4.0", False,
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
            "No derivatives: a model changed by fine-tuning may not be handed on."),
)
# Looked up by the catalog's name or by the Hub's id, in any case.
LICENCES: dict[str, Licence] = {key: lic for lic in _KNOWN for key in (lic.hub_id, lic.name.lower())}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def licence_of(name: str) -> Licence:
    """The licence called ``name``; an unknown one is "other" and not known to allow redistribution."""
    known = LICENCES.get(name.strip().lower())
    if known is not None:
        return known
    return Licence(name.strip(), "other", False,
                   conditions="hubkit does not know this licence's terms; read them before sharing.")


def check_merged_redistribution(licence_name: str, *, what: str) -> Licence:
    """Refuse, in a sentence naming the licence, to hand on merged weights the licence does not allow."""
    licence = licence_of(licence_name)
    if not licence.merged_redistribution:
        raise PermissionDenied(
            f"The base model's licence ({licence.name}) does not allow {what} to be shared: it would "
            f"hand on the base model's weights. Share the LoRA adapter alone instead.",
            detail=licence.conditions or None,
        )
    return licence
