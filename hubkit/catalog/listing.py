"""The pickable base models: stand-ins first, then the real Hugging Face ids."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM

from hubkit.catalog.families import FAMILIES, Family
from hubkit.catalog.standin import DEFAULT_RECIPE, RECIPE_VERSION, read_manifest, standin_config, standin_path

STANDIN_LICENCE = "Apache-2.0"


@dataclass(frozen=True)
class BaseModelInfo:
    """One pickable base model as the apps and the run database show it."""

    key: str
    hf_id: str
    family: str
    architecture: str
    licence: str
    parameters: int
    is_standin: bool
    instruct: bool
    good_at: str
    label: str
    lora_targets: tuple[str, ...]
    built: bool | None = None


def _standin_parameters(family: Family, *, home: Path | None) -> tuple[int, bool]:
    """Parameter count from the build record, or from the recipe on the meta device."""
    manifest = read_manifest(standin_path(family.name, home=home))
    if manifest:
        return int(manifest["parameters"]), True
    config = standin_config(
        family,
        tokenizer=_RecipeTokenizer(DEFAULT_RECIPE.vocab_size),  # type: ignore[arg-type]
        recipe=DEFAULT_RECIPE,
    )
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters()), False


class _RecipeTokenizer:
    """Just enough of a tokenizer for ``standin_config`` before anything is built."""

    bos_token_id = 0
    eos_token_id = 1
    pad_token_id = 2

    def __init__(self, size: int) -> None:
        self._size = size

    def __len__(self) -> int:
        return self._size


def list_base_models(*, home: Path | None = None) -> list[BaseModelInfo]:
    """Every stand-in and real model, stand-ins first; labels say which is which."""
    out: list[BaseModelInfo] = []
    for family in FAMILIES.values():
        params, built = _standin_parameters(family, home=home)
        out.append(BaseModelInfo(
            key=family.standin_key,
            hf_id=f"local/{family.standin_key}",
            family=family.name,
            architecture=family.architecture,
            licence=STANDIN_LICENCE,
            parameters=params,
            is_standin=True,
            instruct=True,
            good_at=f"Tiny offline stand-in for {family.display_name}: the micro-world only. {family.good_at}",
            label=f"{family.display_name} (offline stand-in)",
            lora_targets=family.lora_targets,
            built=built,
        ))
    for family in FAMILIES.values():
        for model in family.models:
            out.append(BaseModelInfo(
                key=model.key,
                hf_id=model.hf_id,
                family=family.name,
                architecture=family.architecture,
                licence=model.licence,
                parameters=model.parameters,
                is_standin=False,
                instruct=model.instruct,
                good_at=model.good_at,
                label=model.hf_id.split("/")[-1],
                lora_targets=family.lora_targets,
            ))
    return out


def base_model_records(*, home: Path | None = None) -> list[dict[str, Any]]:
    """Rows for the ``base_models`` table (key, family, hf_id, architecture, licence, parameters, is_standin, info)."""
    rows = []
    for info in list_base_models(home=home):
        family = FAMILIES[info.family]
        rows.append({
            "key": info.key,
            "family": info.family,
            "hf_id": info.hf_id,
            "architecture": info.architecture,
            "licence": info.licence,
            "parameters": info.parameters,
            "is_standin": info.is_standin,
            "info": {
                "label": info.label,
                "good_at": info.good_at,
                "instruct": info.instruct,
                "lora_targets": list(family.lora_targets),
                "lora_targets_mlp": list(family.lora_targets_mlp),
                "eos_token": family.chat.eos,
                "chat_notes": family.notes,
                **({"recipe_version": RECIPE_VERSION, "stands_in_for": family.models[0].hf_id}
                   if info.is_standin else {}),
            },
        })
    return rows


def registered_base(store: Any, key: str) -> Any:
    """The store's row for base model ``key`` (or Hugging Face id); a fresh local database gets the catalog's
    row on first use.

    A user's kernel (``ApiStore``) cannot register base models: there the
    platform has done it, and an unknown key stays ``NotFound``.
    """
    from hubkit.errors import NotFound
    from hubkit.store import LocalStore

    try:
        return store.get_base_model(key)
    except NotFound:
        row = next((r for r in base_model_records() if key in (r["key"], r["hf_id"])), None)
        if row is None or not isinstance(store, LocalStore):
            raise
        return store.upsert_base_model(**row)


def catalog_key(name: str) -> str:
    """The catalog key for a key or a real Hugging Face id (``Qwen/Qwen2.5-0.5B-Instruct`` → ``qwen2.5-0.5b-instruct``)."""
    from hubkit.catalog.loading import resolve

    family, real = resolve(name)
    return real.key if real is not None else family.standin_key
