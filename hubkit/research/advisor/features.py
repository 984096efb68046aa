"""What the advisor looks at: the same features from a past run's row and from a spec not yet launched.

A feature is known before launch (the configuration, the data's size, the
base family, the goal); outcomes are never features. Scales are logarithmic
where the knob is (learning rate, rank, steps, rows), so "ten times higher"
is the same distance everywhere.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = ("log10_lr", "log2_rank", "log2_alpha_ratio", "lora_dropout", "log2_steps", "log2_rows", "log2_epochs",
           "target_share", "adapts_mlp", "log2_batch", "log2_seq_len", "warmup_ratio", "weight_decay",
           "max_grad_norm", "rslora", "dora")
CATEGORICAL = ("base_family", "domain")
LABELS = {
    "log10_lr": "learning rate", "log2_rank": "LoRA rank", "log2_alpha_ratio": "alpha / rank",
    "lora_dropout": "LoRA dropout", "log2_steps": "training steps", "log2_rows": "dataset rows",
    "log2_epochs": "passes over the data", "target_share": "share of layers adapted", "adapts_mlp": "MLP layers adapted",
    "log2_batch": "batch size", "log2_seq_len": "sequence length", "warmup_ratio": "warm-up share",
    "weight_decay": "weight decay", "max_grad_norm": "gradient clipping", "rslora": "rsLoRA", "dora": "DoRA",
    "base_family": "base model family", "domain": "goal",
}
"""Plain names of the features, for explanations."""
_MLP_NAMES = ("gate_proj", "up_proj", "down_proj", "gate_up_proj", "fc1", "fc2", "mlp")


def _log(value: float, base: float) -> float:
    return math.log(max(float(value), 1e-12), base)


def _targets(base_family: str, targets: str | list[str] | None, target_mlp: bool) -> tuple[float, float]:
    """(share of the family's adaptable layers that are adapted, whether MLP layers are)."""
    from hubkit.catalog import FAMILIES

    family = FAMILIES[base_family] if base_family in set(FAMILIES) else None  # else judge by names alone
    every = list(family.lora_targets_all) if family else []
    if isinstance(targets, str):
        names = [t for t in targets.split(",") if t]
    else:
        names = list(targets or [])
    if not names and family is not None:
        names = list(family.lora_targets) + (list(family.lora_targets_mlp) if target_mlp else [])
    share = len(set(names)) / len(every) if every else float("nan")
    mlp = any(n in _MLP_NAMES for n in names) or bool(target_mlp)
    return share, float(mlp)


def knob_features(knobs: Mapping[str, Any]) -> dict[str, Any]:
    """One feature row from plain knob values (as in the run table: ``learning_rate``, ``lora_r``...)."""
    rows = float(knobs.get("dataset_rows") or knobs.get("example_rows") or 200)
    batch = float(knobs.get("batch_size") or 8) * float(knobs.get("gradient_accumulation") or 1)
    steps = knobs.get("max_steps")
    train_rows = max(rows * (1 - float(knobs.get("validation_fraction") or 0.1)), 1.0)
    if steps is None or (isinstance(steps, float) and math.isnan(steps)):
        epochs = float(knobs.get("num_epochs") or 1.0)
        steps = max(1, math.ceil(train_rows * epochs / batch))
    epochs = float(steps) * batch / train_rows
    share, mlp = _targets(str(knobs.get("base_family")), knobs.get("target_modules"), bool(knobs.get("target_mlp")))
    rank = float(knobs.get("lora_r") or 16)
    return {
        "log10_lr": _log(float(knobs.get("learning_rate") or 2e-4), 10),
        "log2_rank": _log(rank, 2),
        "log2_alpha_ratio": _log(float(knobs.get("lora_alpha") or 2 * rank) / rank, 2),
        "lora_dropout": float(knobs.get("lora_dropout") or 0.0),
        "log2_steps": _log(float(steps), 2),
        "log2_rows": _log(rows, 2),
        "log2_epochs": _log(epochs, 2),
        "target_share": share, "adapts_mlp": mlp,
        "log2_batch": _log(batch, 2),
        "log2_seq_len": _log(float(knobs.get("max_seq_len") or 256), 2),
        "warmup_ratio": float(knobs.get("warmup_ratio") or 0.0),
        "weight_decay": float(knobs.get("weight_decay") or 0.0),
        "max_grad_norm": float(knobs.get("max_grad_norm") if knobs.get("max_grad_norm") is not None else 1.0),
        "rslora": float(bool(knobs.get("use_rslora"))), "dora": float(bool(knobs.get("use_dora"))),
        "base_family": str(knobs.get("base_family")), "domain": str(knobs.get("domain")),
    }


def table_features(table: pd.DataFrame) -> pd.DataFrame:
    """Feature rows for every run of a run table (``advisor.table.run_table``)."""
    records = table.to_dict("records")
    for r in records:
        r["use_rslora"], r["use_dora"] = r.get("use_rslora"), r.get("use_dora")
        if isinstance(r.get("num_epochs"), float) and math.isnan(r["num_epochs"]):
            r["num_epochs"] = None
        if isinstance(r.get("max_steps"), float) and math.isnan(r["max_steps"]):
            r["max_steps"] = None
    return frame_of([knob_features(r) for r in records])


def spec_knobs(spec: Any, *, dataset_rows: int | None = None) -> dict[str, Any]:
    """The knobs of a ``TrainSpec`` with its base family (and the data's size when known)."""
    from hubkit.catalog import resolve

    family = resolve(spec.base_model)[0].name
    rows = dataset_rows if dataset_rows is not None else (spec.dataset.example_rows if spec.dataset.example else None)
    return {**spec.model_dump(mode="json"), "base_family": family, "dataset_rows": rows,
            "domain": spec.domain}


def frame_of(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*NUMERIC, *CATEGORICAL])
    for column in NUMERIC:
        frame[column] = frame[column].astype(float)
    for column in CATEGORICAL:
        frame[column] = frame[column].astype(str)
    return frame


def encode(frame: pd.DataFrame, categories: Mapping[str, list[str]]) -> np.ndarray:
    """Numeric columns as they are, categorical ones as codes in a fixed order (unknown → -1 → NaN)."""
    parts = [frame[list(NUMERIC)].to_numpy(dtype=float)]
    for column in CATEGORICAL:
        codes = pd.Categorical(frame[column], categories=categories[column]).codes.astype(float)
        codes[codes < 0] = np.nan
        parts.append(codes[:, None])
    return np.hstack(parts)
