"""Recommendation: for a goal, a base and a dataset, the setting with the best predicted gain that is safe.

Candidates are a grid over the knobs the sweep varied (learning rate, rank,
alpha, dropout, target layers, steps); the data, base and goal stay the
person's. Every candidate is scored by the fitted advisor in one batch; the
winner has the highest predicted median gain among those with a failure risk
under ``max_risk`` and enough similar past runs to be judged.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hubkit.research.advisor import features as F
from hubkit.research.advisor.model import Advice, Advisor

LEARNING_RATES = tuple(float(f"{v:.2g}") for v in np.logspace(-5, 1, 25))
RANKS = (1, 2, 4, 8, 16, 32, 64)
ALPHA_RATIOS = (1.0, 2.0, 4.0)
DROPOUTS = (0.0, 0.1)
TARGETS = ("attention_qv", "attention", "all_linear")
MAX_RISK = 0.10


@dataclass(frozen=True)
class Recommendation:
    """The settings to change (on top of the person's spec) and what the advisor expects of them."""

    found: bool
    sentence: str
    settings: dict[str, Any]
    advice: Advice | None
    candidates: int
    safe: int


def _candidate_knobs(knobs: dict[str, Any], steps: tuple[int, ...]) -> list[dict[str, Any]]:
    from hubkit.research.sweep import targets_for

    base = knobs.get("base_model")
    targets = {t: targets_for(base, t) for t in TARGETS} if base else {t: None for t in TARGETS}
    out = []
    for lr, r, ratio, dropout, target, n_steps in itertools.product(LEARNING_RATES, RANKS, ALPHA_RATIOS, DROPOUTS,
                                                                     TARGETS, steps):
        out.append({**knobs, "learning_rate": lr, "lora_r": r, "lora_alpha": float(r * ratio),
                    "lora_dropout": dropout, "target_modules": targets[target], "target_mlp": False,
                    "max_steps": n_steps, "num_epochs": None})
    return out


def recommend(advisor: Advisor, knobs: dict[str, Any], *, max_risk: float = MAX_RISK,
              steps: tuple[int, ...] | None = None) -> Recommendation:
    """The best safe setting for the spec's base, goal and data (``knobs`` from ``features.spec_knobs``)."""
    refusal = advisor._refusal(knobs)
    if refusal:
        return Recommendation(False, refusal, {}, None, 0, 0)
    given = knobs.get("max_steps")
    steps = steps or ((int(given),) if given else (8, 16, 32, 48))
    candidates = _candidate_knobs(knobs, steps)
    frame = F.frame_of([F.knob_features(c) for c in candidates])
    pred = advisor.predict_frame(frame)
    dist, _ = advisor.neighbours.kneighbors(advisor._space(frame), n_neighbors=advisor.min_similar)
    judged = dist[:, -1] <= advisor.radius
    safe = (pred["risk"].to_numpy() < max_risk) & judged
    if "gain_q50" not in pred or not safe.any():
        return Recommendation(False, "No setting the advisor can judge has a failure risk under "
                              f"{max_risk:.0%} for this base, goal and data yet.", {}, None, len(candidates),
                              int(safe.sum()))
    score = pd.Series(np.where(safe, pred["gain_q50"].to_numpy(), -np.inf))
    best = candidates[int(score.idxmax())]
    advice = advisor.advise(best, base_model=str(knobs.get("base_model", "")))
    settings = {k: best[k] for k in ("learning_rate", "lora_r", "lora_alpha", "lora_dropout", "target_modules",
                                     "target_mlp", "max_steps", "num_epochs")}
    sentence = (f"Try learning rate {best['learning_rate']:.2g}, rank {best['lora_r']}, alpha {best['lora_alpha']:g}, "
                f"{best['max_steps']} steps: " + advice.sentence)
    return Recommendation(True, sentence, settings, advice, len(candidates), int(safe.sum()))
