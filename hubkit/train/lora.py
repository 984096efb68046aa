"""The LoRA adapter: which layers get one, and the PEFT config built from a `TrainSpec`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PeftModel, get_peft_model

from hubkit.errors import ValidationError
from hubkit.train.spec import TrainSpec


def linear_module_names(model: torch.nn.Module) -> set[str]:
    """Leaf names of the linear layers a LoRA adapter can attach to (lm_head excluded)."""
    names = set()
    for full, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and full:
            leaf = full.rsplit(".", 1)[-1]
            if leaf != "lm_head":
                names.add(leaf)
    return names


def check_targets(targets: list[str], model: torch.nn.Module, *, architecture: str) -> None:
    available = linear_module_names(model)
    unknown = [t for t in targets if t not in available]
    if unknown:
        raise ValidationError(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a layer of {architecture}; "
            f"choose from {', '.join(sorted(available))}.", field="target_modules")


def lora_config(spec: TrainSpec, targets: list[str]) -> LoraConfig:
    return LoraConfig(
        r=spec.lora_r, lora_alpha=spec.lora_alpha, lora_dropout=spec.lora_dropout,
        target_modules=list(targets), bias=spec.lora_bias, use_rslora=spec.use_rslora,
        use_dora=spec.use_dora, task_type="CAUSAL_LM",
    )


def attach(model: torch.nn.Module, spec: TrainSpec, targets: list[str]) -> PeftModel:
    return get_peft_model(model, lora_config(spec, targets))


def settings_from_folder(folder: Path) -> dict[str, Any]:
    """A saved adapter's LoRA settings in `TrainSpec` terms (they win when training continues from it)."""
    cfg = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    targets = cfg["target_modules"]
    return {
        "lora_r": int(cfg["r"]), "lora_alpha": float(cfg["lora_alpha"]), "lora_dropout": float(cfg["lora_dropout"]),
        "target_modules": sorted([targets] if isinstance(targets, str) else targets), "target_mlp": False,
        "lora_bias": cfg.get("bias", "none"), "use_rslora": bool(cfg.get("use_rslora", False)),
        "use_dora": bool(cfg.get("use_dora", False)),
    }


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(all parameters, trainable parameters)."""
    total = trainable = 0
    for p in model.parameters():
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return total, trainable
