"""Loading base models (stand-in or real) and checking their chat templates."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase

from hubkit.catalog.families import FAMILIES, Family, RealModel
from hubkit.catalog.standin import read_manifest, standin_path
from hubkit.errors import NotFound

_OFFLINE_VALUES = {"1", "true", "yes", "on"}


def resolve(key: str) -> tuple[Family, RealModel | None]:
    """(family, real model) for a catalog key or real HF id; real model is None for a stand-in."""
    for family in FAMILIES.values():
        if key == family.standin_key:
            return family, None
        for model in family.models:
            if key in (model.key, model.hf_id):
                return family, model
    raise NotFound(
        f"There is no base model called {key!r} in the catalog. "
        "Run 'hubkit catalog list' to see the available ones."
    )


def load_base(
    key: str,
    *,
    home: Path | None = None,
    dtype: Any = None,
    device_map: Any = None,
    quantization_config: Any = None,
) -> tuple[Any, PreTrainedTokenizerBase]:
    """(model, tokenizer) for a catalog key: a local stand-in or a real checkpoint already on disk.

    ``trust_remote_code`` is always off; ``quantization_config`` (bitsandbytes) loads
    the weights 4- or 8-bit. Real checkpoints are never fetched
    while ``HF_HUB_OFFLINE`` is set; missing weights raise ``NotFound``.
    """
    family, real = resolve(key)
    options: dict[str, Any] = {"trust_remote_code": False}
    if dtype is not None:
        options["dtype"] = dtype
    if device_map is not None:
        options["device_map"] = device_map
    if quantization_config is not None:
        options["quantization_config"] = quantization_config
    if real is None:
        path = standin_path(family.name, home=home)
        if read_manifest(path) is None:
            raise NotFound(
                f"The {family.display_name} stand-in has not been built yet. "
                "Run 'hubkit catalog build' first.",
                detail=f"no complete stand-in at {path}",
            )
        source, local_only = str(path), True
    else:
        source = real.hf_id
        local_only = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _OFFLINE_VALUES
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(source, local_files_only=local_only, **options)
    except OSError as exc:
        raise NotFound(
            f"The weights of {source} are not on this machine, and downloading is switched off. "
            "Pick a stand-in, or ask the operator to place the model in the Hugging Face cache.",
            detail=str(exc),
        ) from exc
    if type(model).__name__ != family.architecture:
        raise NotFound(
            f"{source} is not a {family.display_name} model.",
            detail=f"expected {family.architecture}, found {type(model).__name__}",
        )
    return model, tokenizer


_PROBE = [
    {"role": "system", "content": "SYSTEM-PROBE"},
    {"role": "user", "content": "USER-PROBE-1"},
    {"role": "assistant", "content": "ASSISTANT-PROBE-1"},
    {"role": "user", "content": "USER-PROBE-2"},
    {"role": "assistant", "content": "ASSISTANT-PROBE-2"},
]


def check_chat_template(tokenizer: PreTrainedTokenizerBase) -> list[str]:
    """Plain-language warnings about a tokenizer's chat markup; empty when all is well.

    A fine-tuned model learns to stop only if every assistant turn ends with
    the EOS token and padding does not mask that token away.
    """
    warnings: list[str] = []
    eos = tokenizer.eos_token
    if not eos:
        warnings.append("The tokenizer has no end-of-sequence (EOS) token, so generation may never stop.")
    if tokenizer.pad_token is None:
        warnings.append("The tokenizer has no padding token; batches need one.")
    elif eos and tokenizer.pad_token == eos:
        warnings.append(
            "The padding token is the EOS token: if padding is masked out of the loss, "
            "the model never learns to stop."
        )
    if not getattr(tokenizer, "chat_template", None):
        warnings.append("The tokenizer has no chat template, so chat datasets cannot be rendered.")
        return warnings
    try:
        rendered = tokenizer.apply_chat_template(_PROBE, tokenize=False)
    except Exception:  # noqa: BLE001 - many templates reject a system turn
        try:
            rendered = tokenizer.apply_chat_template(_PROBE[1:], tokenize=False)
        except Exception as exc:  # noqa: BLE001 - the template itself is broken
            return warnings + [f"The chat template cannot render a conversation: {exc}"]
    if eos:
        for message in _PROBE[2::2]:
            _, found, after = rendered.partition(message["content"])
            if found and not after.lstrip().startswith(eos):
                warnings.append(
                    f"The chat template does not end assistant turns with the EOS token {eos!r}, "
                    "so a fine-tuned model may not learn to stop."
                )
                break
    return warnings
