"""The Failure Museum: every run that did not simply work, kept and explained.

An exhibit is any finished run that failed, stopped partway, stopped early,
scored worse than its base model on its own domain beyond noise, or was
rejected by people: its owner's thumbs down, or a majority of thumbs down among
at least ``MIN_VOTERS`` voters (one passing visitor's vote is not a verdict).
Nothing is filtered out: the museum is where the boundary of what works
becomes visible (failure rate by learning rate × LoRA rank × base family ×
dataset size, with counts).
"""
from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hubkit.research import frames
from hubkit.research._source import engine_for
from hubkit.research.curveshape import CurveFeatures, curve_features

if TYPE_CHECKING:
    from hubkit.store import Store

# Registry of failure classes: name → what it means, in plain words. A recorded
# class outside it is kept as it is (never dropped), under "other".
FAILURE_CLASSES: dict[str, str] = {
    "divergence": "the loss blew up or became NaN/inf",
    "oom": "it ran out of memory",
    "exception": "it stopped with an error (exception:<type> names the error)",
    "lost": "the process died or was killed and its heartbeat stopped",
    "worker_lost": "one of its training workers died, which stopped the run (several workers)",
    "time_budget": "its time budget ran out (the part learnt so far is kept)",
    "cancelled": "its owner cancelled it (the part learnt so far is kept)",
    "early_stop_no_improvement": "it stopped early because the held-back loss never improved",
    "regression": "it scored worse than its base model on its own domain, beyond noise",
    "user_rejected": "its owner gave it a thumbs down, or most of at least 3 voters did",
    "early_stop": "it stopped early after improving",
    "unclassified": "it failed without a recorded reason",
}
# Primary class when a run has several reasons: what training recorded first,
# then what the scores and people say.
_PRECEDENCE = ("early_stop_no_improvement", "regression", "user_rejected", "early_stop")
MIN_VOTERS = 3  # fewer voters than this, and only the owner's own thumbs down rejects a run
NOISE_Z = 1.96  # "beyond noise": a two-sided 5% z-test against the base model's score

LR_EDGES = (0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, math.inf)
RANK_EDGES = (0, 4, 8, 16, 32, 64, math.inf)
SIZE_EDGES = (0, 100, 1_000, 10_000, 100_000, math.inf)
DEFAULT_BY = ("lr_bucket", "rank_bucket", "base_family", "size_bucket")
KNOB_COLUMNS: dict[str, tuple[str, ...]] = {
    "learning_rate": ("config.learning_rate",),
    "lora_r": ("config.lora_r", "config.lora.r"),
}
_EXCEPTION = re.compile(r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception|Interrupt|Exit|Warning))\b")


def _number(x: float) -> str:
    if math.isinf(x):
        return "∞"
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}" if x < 0.01 else f"{x:g}"


def _labels(edges: Sequence[float], *, ints: bool = False) -> list[str]:
    labels = []
    for lo, hi in itertools.pairwise(edges):
        if ints:
            labels.append(f">{lo:g}" if math.isinf(hi) else f"{lo + 1:g}–{hi:g}" if lo else f"≤{hi:g}")
        else:
            labels.append(f"≥{_number(lo)}" if math.isinf(hi) else f"<{_number(hi)}" if lo == 0
                          else f"{_number(lo)}–{_number(hi)}")
    return labels


def _knob(frame: pd.DataFrame, knob: str) -> pd.Series:
    for column in KNOB_COLUMNS[knob]:
        if column in frame:
            return pd.to_numeric(frame[column], errors="coerce")
    return pd.Series(np.nan, index=frame.index)


def add_buckets(frame: pd.DataFrame) -> pd.DataFrame:
    """Learning-rate, LoRA-rank and dataset-size buckets as ordered categories."""
    out = frame.copy()
    out["learning_rate"] = _knob(frame, "learning_rate")
    out["lora_r"] = _knob(frame, "lora_r")
    out["lr_bucket"] = pd.cut(out["learning_rate"], LR_EDGES, right=False, labels=_labels(LR_EDGES))
    out["rank_bucket"] = pd.cut(out["lora_r"], RANK_EDGES, right=True, labels=_labels(RANK_EDGES, ints=True))
    rows = pd.to_numeric(frame.get("dataset_rows", pd.Series(np.nan, index=frame.index)), errors="coerce")
    out["size_bucket"] = pd.cut(rows.astype("float64"), SIZE_EDGES, right=False,
                                labels=_labels(SIZE_EDGES, ints=False))
    return out


def normalise_class(recorded: str | None, message: str | None, outcome: str | None) -> str | None:
    """``exception`` gains its type (``exception:ValueError``) from the message; a failure without a class is named."""
    if recorded == "exception":
        found = _EXCEPTION.search(message or "")
        return f"exception:{found.group(1)}" if found else "exception"
    if recorded:
        return recorded
    return "unclassified" if outcome in ("failure", "partial") else None


def class_family(name: str) -> str:
    """The registry entry of a class: ``exception:ValueError`` → ``exception``."""
    family = name.split(":", 1)[0]
    return family if family in FAILURE_CLASSES else "other"


def describe(name: str) -> str:
    family = class_family(name)
    if family == "exception" and ":" in name:
        return f"it stopped with an error ({name.split(':', 1)[1]})"
    return FAILURE_CLASSES.get(family, f"it failed ({name})")


def own_domain_regressions(score_frame: pd.DataFrame) -> pd.DataFrame:
    """Per model: the most negative z of its own-domain scores against its base model (same stamp)."""
    current = score_frame[(score_frame["status"] == "scored") & score_frame["value"].notna()]
    base = current[current["is_baseline"]][["base_model", "task", "stamp_hash", "value", "stderr"]]
    own = current[~current["is_baseline"] & (current["domain"].astype(str) == current["model_domain"].astype(str))]
    if own.empty or base.empty:
        return pd.DataFrame(columns=["own_delta_base", "own_z"]).rename_axis("model_id")
    joined = own.merge(base, on=["base_model", "task", "stamp_hash"], suffixes=("", "_base"))
    spread = np.sqrt(joined["stderr"].astype(float) ** 2 + joined["stderr_base"].astype(float) ** 2)
    joined["own_delta_base"] = joined["value"] - joined["value_base"]
    joined["own_z"] = joined["own_delta_base"] / spread.where(spread > 0)
    worst = joined.sort_values("own_z").drop_duplicates("model_id")
    return worst.set_index(worst["model_id"].astype("int64"))[["own_delta_base", "own_z"]]


def _early_stops(engine) -> dict[int, bool]:  # type: ignore[no-untyped-def]
    """model id → whether the run improved before stopping early (from its early_stop event)."""
    out: dict[int, bool] = {}
    with engine.connect() as conn:
        for model_id, payload in conn.exec_driver_sql(
                "SELECT model_id, payload FROM events WHERE kind = 'early_stop' AND model_id IS NOT NULL ORDER BY id"):
            data = json.loads(payload) if isinstance(payload, str) else (payload or {})
            out[int(model_id)] = bool(data.get("improved", True))
    return out


def _owner_rejected(engine) -> set[int]:  # type: ignore[no-untyped-def]
    """Ids of the models whose owner gave them a thumbs down."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT f.model_id FROM feedback f JOIN models m ON m.id = f.model_id "
            "WHERE f.user_id = m.owner_id AND f.thumbs_up = false")
        return {int(model_id) for (model_id,) in rows}


def rejected_by_people(*, ups: int, downs: int, owner_down: bool) -> bool:
    """The museum's rule for "user_rejected": the owner's thumbs down, or a
    majority of thumbs down among at least ``MIN_VOTERS`` voters."""
    return owner_down or (ups + downs >= MIN_VOTERS and downs > ups)


def load_curves(engine, model_ids: Sequence[int], *, chunk: int = 2_000) -> dict[int, list]:  # type: ignore[no-untyped-def]
    """``loss_curve_data`` of the given models (the materialised curves)."""
    found: dict[int, list] = {}
    ids = [int(i) for i in model_ids]
    with engine.connect() as conn:
        for start in range(0, len(ids), chunk):
            part = ",".join(str(i) for i in ids[start:start + chunk])
            for model_id, data in conn.exec_driver_sql(
                    f"SELECT id, loss_curve_data FROM models WHERE id IN ({part})"):
                parsed = json.loads(data) if isinstance(data, str) else data
                found[int(model_id)] = parsed or []
    return found


def exhibits(*, url: str | None = None, store: Store | None = None, runs: pd.DataFrame | None = None,
             include_private: bool = True, with_curves: bool = True) -> pd.DataFrame:
    """Every exhibit, one row per run, with its failure class, reasons, knobs and curve shape.

    ``reasons`` lists every reason a run is in the museum; ``failure_class`` is
    the main one (training's own verdict first).
    """
    engine = engine_for(url=url, store=store)
    frame = runs if runs is not None else frames.runs(url=url, store=store, include_private=include_private)
    frame = add_buckets(frame).set_index("model_id", drop=False)
    frame = frame[frame["status"].astype(str) == "finished"]
    regressions = own_domain_regressions(frames.scores(url=url, store=store, include_private=include_private))
    stops = _early_stops(engine)
    owner_down = _owner_rejected(engine)

    recorded = [normalise_class(c, m, o) for c, m, o in zip(
        frame["failure_class"].astype(object).where(frame["failure_class"].notna(), None),
        frame["failure_message"].astype(object).where(frame["failure_message"].notna(), None),
        frame["training_outcome"].astype(object).where(frame["training_outcome"].notna(), None), strict=True)]
    own_z = regressions["own_z"].reindex(frame.index)
    reasons_list: list[list[str]] = []
    for model_id, first, z, ups, downs in zip(frame.index.tolist(), recorded, own_z.tolist(),
                                              frame["thumbs_up"].tolist(), frame["thumbs_down"].tolist(),
                                              strict=True):
        reasons = [first] if first else []
        improved = stops.get(model_id)
        if improved is False and "early_stop_no_improvement" not in reasons:
            reasons.append("early_stop_no_improvement")
        if not math.isnan(z) and z <= -NOISE_Z:
            reasons.append("regression")
        if rejected_by_people(ups=int(ups), downs=int(downs), owner_down=model_id in owner_down):
            reasons.append("user_rejected")
        if improved:
            reasons.append("early_stop")
        reasons_list.append(reasons)
    keep = np.array([bool(r) for r in reasons_list], dtype=bool)
    out = frame[keep].copy()
    kept = [r for r in reasons_list if r]
    out["failure_class"] = [_primary(r) for r in kept]
    out["class_family"] = [class_family(c) for c in out["failure_class"]]
    out["reasons"] = [",".join(r) for r in kept]
    out["own_delta_base"] = regressions["own_delta_base"].reindex(out.index)
    out["own_z"] = own_z[keep].to_numpy()
    out["why"] = [_sentence(r) for r in kept]
    columns = ["model_id", "slug", "name", "owner", "domain", "base_model", "base_family", "training_outcome",
               "failure_class", "class_family", "reasons", "why", "failure_message", "learning_rate", "lora_r",
               "dataset_rows", "lr_bucket", "rank_bucket", "size_bucket", "own_delta_base", "own_z", "thumbs_up",
               "thumbs_down", "parent_model_id", "visibility", "created_at", "duration_s"]
    out = out[columns].reset_index(drop=True)
    if with_curves:
        curves = load_curves(engine, out["model_id"].tolist())
        shapes = pd.DataFrame([curve_features(curves.get(int(i))).as_dict() for i in out["model_id"]],
                              index=out.index)
        if shapes.empty:
            shapes = pd.DataFrame(columns=list(CurveFeatures.__dataclass_fields__), index=out.index)
        out = pd.concat([out, _typed_shapes(shapes)], axis=1)
    out["failure_class"] = out["failure_class"].astype("category")
    out["class_family"] = out["class_family"].astype("category")
    return out


def _typed_shapes(shapes: pd.DataFrame) -> pd.DataFrame:
    out = shapes.copy()
    for name, kind in CurveFeatures.__annotations__.items():
        text = str(kind)
        if "float" in text:
            out[name] = pd.to_numeric(out[name], errors="coerce").astype("float64")
        elif "bool" in text:
            out[name] = out[name].astype(bool)
        else:
            out[name] = pd.to_numeric(out[name], errors="coerce").astype("Int64")
    return out


def _primary(reasons: list[str]) -> str:
    first = reasons[0]
    if first not in _PRECEDENCE:
        return first  # training's own verdict
    return min(reasons, key=lambda r: _PRECEDENCE.index(r) if r in _PRECEDENCE else -1)


def _sentence(reasons: list[str]) -> str:
    parts = [describe(r) for r in reasons]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return text[0].upper() + text[1:] + "."


def boundary(*, runs: pd.DataFrame | None = None, url: str | None = None, store: Store | None = None,
             by: Sequence[str] = DEFAULT_BY, include_private: bool = True) -> pd.DataFrame:
    """Failure rate per cell of ``by`` (default: learning rate × rank × family × dataset size), with counts.

    ``runs`` counts finished runs in the cell, ``failures`` those that failed,
    ``partials`` those that stopped partway; ``top_failure_class`` is the most
    common recorded class among the failures and partials.
    """
    frame = runs if runs is not None else frames.runs(url=url, store=store, include_private=include_private)
    frame = add_buckets(frame)
    frame = frame[frame["status"].astype(str) == "finished"].copy()
    outcome = frame["training_outcome"].astype(str)
    frame["_failure"] = (outcome == "failure").astype("int64")
    frame["_partial"] = (outcome == "partial").astype("int64")
    frame["_class"] = frame["failure_class"].astype(object)
    grouped = frame.groupby(list(by), observed=True, dropna=False)
    table = grouped.agg(runs=("_failure", "size"), failures=("_failure", "sum"), partials=("_partial", "sum"))
    table["failure_rate"] = table["failures"] / table["runs"]
    table["partial_rate"] = table["partials"] / table["runs"]
    top = grouped["_class"].agg(lambda s: s.dropna().mode().iloc[0] if s.notna().any() else None)
    table["top_failure_class"] = top
    return table.reset_index().sort_values(["failure_rate", "runs"], ascending=[False, False]).reset_index(drop=True)


@dataclass(frozen=True)
class MuseumSummary:
    finished: int
    exhibits: int
    by_class: dict[str, int]
    sentences: list[str] = field(default_factory=list)


_KNOB_NAMES = {"lr_bucket": "learning rate", "rank_bucket": "LoRA rank", "base_family": "base family",
               "size_bucket": "dataset size (rows)"}


def summarise(*, runs: pd.DataFrame | None = None, exhibit_frame: pd.DataFrame | None = None,
              url: str | None = None, store: Store | None = None, min_runs: int = 10,
              include_private: bool = True) -> MuseumSummary:
    """Plain sentences on where runs fail, for the public museum page."""
    frame = runs if runs is not None else frames.runs(url=url, store=store, include_private=include_private)
    shown = exhibit_frame if exhibit_frame is not None else exhibits(
        url=url, store=store, runs=frame, include_private=include_private, with_curves=False)
    finished = int((frame["status"].astype(str) == "finished").sum())
    by_class = {str(k): int(v) for k, v in shown["class_family"].value_counts().items() if v}
    sentences = []
    if finished:
        failed = int((frame["training_outcome"].astype(str) == "failure").sum())
        partial = int((frame["training_outcome"].astype(str) == "partial").sum())
        sentences.append(f"Of {finished:,} finished runs, {failed / finished:.0%} failed and "
                         f"{partial / finished:.0%} stopped partway; {len(shown):,} are exhibits here.")
    for knob, label in _KNOB_NAMES.items():
        cells = boundary(runs=frame, by=(knob,))
        cells = cells[cells["runs"] >= min_runs]
        if len(cells) < 2:
            continue
        worst = cells.iloc[0]
        best = cells.sort_values(["failure_rate", "runs"], ascending=[True, False]).iloc[0]
        if worst["failure_rate"] <= best["failure_rate"]:
            continue
        cause = f", mostly {worst['top_failure_class']}" if worst["top_failure_class"] else ""
        sentences.append(
            f"By {label}: {worst[knob]} failed most often ({worst['failure_rate']:.0%} of {int(worst['runs']):,} "
            f"runs{cause}); {best[knob]} failed least ({best['failure_rate']:.0%} of {int(best['runs']):,}).")
    return MuseumSummary(finished=finished, exhibits=len(shown), by_class=by_class, sentences=sentences)
