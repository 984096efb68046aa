"""The base models training starts from, as the catalog provides them."""
from __future__ import annotations

from typing import Any

from hubkit import catalog


def load_base(key: str, **kwargs: Any) -> tuple[Any, Any]:
    """(model, tokenizer) for a catalog key; never runs remote code."""
    return catalog.load_base(key, **kwargs)


def default_targets(family: str) -> list[str]:
    """The layers a LoRA adapter attaches to when the spec names none."""
    return list(catalog.get_family(family).lora_target_modules)


def family_of(key: str) -> str:
    return catalog.get_base(key).family


def check_chat_template(tokenizer: Any) -> str | None:
    """A plain sentence when the chat template would teach the model to never stop, else None."""
    return catalog.check_chat_template(tokenizer)
