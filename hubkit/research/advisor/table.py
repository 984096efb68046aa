"""The run database as the advisor learns from it: one flat row per training attempt.

Each row holds what was known before launch (the configuration, the dataset's
size, the base, the goal) and what happened (outcome and failure class, the
duration, the last losses, the change over the base model in every domain).
A domain's score is the mean of its scored tasks on a 0–100 scale; its change
("gain") is the mean of the tasks' differences from the base model under the
same reproducibility stamp, so only comparable scores are subtracted.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hubkit.research import frames

if TYPE_CHECKING:
    from hubkit.store import Store

SWEEP_PREFIX = "sweep "
_PERCENT_METRICS = {"chrf", "bleu", "ter"}
KNOBS = ("learning_rate", "lora_r", "lora_alpha", "lora_dropout", "max_steps", "batch_size", "max_seq_len",
         "warmup_ratio", "weight_decay", "max_grad_norm", "gradient_accumulation", "num_epochs")
FLAGS = ("target_mlp", "use_rslora", "use_dora", "packing", "gradient_checkpointing")


def _scale(metric: str) -> float:
    return 1.0 if metric in _PERCENT_METRICS else 100.0


def domain_changes(scores: pd.DataFrame) -> pd.DataFrame:
    """Per run and domain: the score (0–100) and its change over the base model (points)."""
    fine = scores[(~scores["is_baseline"]) & scores["is_current"] & (scores["status"] == "scored")].copy()
    if fine.empty:
        return pd.DataFrame(columns=["model_id"])
    factor = fine["metric"].map(_scale)
    fine["points"] = fine["value"] * factor
    fine["gain"] = fine["delta_base"] * factor
    grouped = fine.groupby(["model_id", "domain"], observed=True).agg(score=("points", "mean"),
                                                                       gain=("gain", "mean"), n=("n", "min"))
    wide = grouped.unstack("domain")
    wide.columns = [f"{what}.{domain}" for what, domain in wide.columns]
    return wide.reset_index()


def _targets(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (list, tuple, np.ndarray)):
        return ",".join(str(v) for v in value)
    return str(value)


def run_table(*, store: Store | None = None, url: str | None = None, owner: str | None = None) -> pd.DataFrame:
    """One row per finished attempt (fork and resume runs excluded: their start is not a base model)."""
    runs = frames.runs(store=store, url=url, include_private=True)
    runs = runs[runs["training_outcome"].notna() & runs["parent_model_id"].isna()]
    if owner is not None:
        runs = runs[runs["owner"] == owner]
    out = pd.DataFrame({
        "model_id": runs["model_id"].astype("int64"), "slug": runs["slug"].astype(str),
        "name": runs["name"].astype(str), "base_model": runs["base_model"].astype(str),
        "base_family": runs["base_family"].astype(str), "domain": runs["domain"].astype(str),
        "dataset_fingerprint": runs["dataset_fingerprint"].astype(str),
        "dataset_rows": pd.to_numeric(runs["dataset_rows"], errors="coerce").astype(float),
        "outcome": runs["training_outcome"].astype(str),
        "failure_class": runs["failure_class"].astype("string").fillna(""),
        "duration_s": pd.to_numeric(runs["duration_s"], errors="coerce"),
    })
    for knob in KNOBS:
        column = f"config.{knob}"
        out[knob] = pd.to_numeric(runs[column], errors="coerce") if column in runs else np.nan
    for flag in FLAGS:
        column = f"config.{flag}"
        out[flag] = runs[column].fillna(False).astype(bool) if column in runs else False
    out["target_modules"] = runs["config.target_modules"].map(_targets) if "config.target_modules" in runs else ""
    out["example_rows"] = pd.to_numeric(runs.get("config.dataset.example_rows"), errors="coerce")
    out["data_seed"] = pd.to_numeric(runs.get("config.seed"), errors="coerce")
    out["is_example_data"] = runs.get("config.dataset.example").notna() if "config.dataset.example" in runs else False
    changes = domain_changes(frames.scores(store=store, url=url, include_private=True))
    out = out.merge(changes, on="model_id", how="left") if len(changes.columns) > 1 else out
    curves = _curve_summary(store=store, url=url, model_ids=out["model_id"].tolist())
    return out.merge(curves, on="model_id", how="left").reset_index(drop=True)


def _curve_summary(*, store: Store | None, url: str | None, model_ids: list[int]) -> pd.DataFrame:
    """First and last finite training loss, the last held-back loss, and whether anything went non-finite."""
    if not model_ids:
        return pd.DataFrame(columns=["model_id", "first_loss", "final_loss", "final_eval_loss", "nonfinite", "steps"])
    curve = frames.curves(store=store, url=url, model_ids=model_ids)
    curve = curve.sort_values(["model_id", "seq"])
    finite = curve[np.isfinite(curve["loss"].astype(float))]
    by = finite.groupby("model_id")
    summary = pd.DataFrame({"first_loss": by["loss"].first(), "final_loss": by["loss"].last()})
    evals = curve[curve["eval_loss"].notna()].groupby("model_id")["eval_loss"].last().rename("final_eval_loss")
    bad = curve.groupby("model_id")["nonfinite"].apply(lambda s: bool(s.notna().any())).rename("nonfinite")
    steps = curve.groupby("model_id")["step"].max().rename("steps")
    return summary.join([evals, bad, steps], how="outer").reset_index()


def sweep_table(*, store: Store | None = None, url: str | None = None) -> pd.DataFrame:
    """The sweep's runs (named ``sweep <key>``), one per point, with the point's key, dataset group and
    held-out mark (a point trained twice after an interruption keeps its genuine run only)."""
    from hubkit.research.sweep import OWNER, RETRAIN_CLASSES, dataset_group, is_held_out

    table = run_table(store=store, url=url, owner=OWNER)
    table = table[table["name"].str.startswith(SWEEP_PREFIX) & ~table["failure_class"].isin(RETRAIN_CLASSES)]
    table = table.sort_values("model_id").drop_duplicates("name", keep="last")
    table.insert(1, "key", table["name"].str.removeprefix(SWEEP_PREFIX))
    table["dataset_group"] = [dataset_group(d, int(s)) for d, s in zip(table["domain"], table["data_seed"])]
    table["held_out"] = table["dataset_group"].map(is_held_out)
    return table.reset_index(drop=True)
