"""The base models training starts from, as the catalog provides them."""
from __future__ import annotations

from typing import Any

from hubkit import catalog


def load_base(key: str, **kwargs: Any) -> tuple[Any, Any]:
    """(model, tokenizer) for a catalog key; never runs remote code."""
    return catalog.load_base(key, **kwargs)


def family_of(key: str) -> str:
    return catalog.resolve(key)[0].name


def default_targets(family: str, *, mlp: bool = False) -> list[str]:
    """The layers a LoRA adapter attaches to when the spec names none (attention, plus MLP if asked)."""
    fam = catalog.get_family(family)
    return list(fam.lora_targets_all if mlp else fam.lora_targets)


def check_chat_template(tokenizer: Any) -> list[str]:
    """Plain sentences about chat markup that would keep a fine-tuned model from stopping."""
    return catalog.check_chat_template(tokenizer)
