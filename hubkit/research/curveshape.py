"""Curve-shape features: what a loss curve looked like, in a few numbers.

Computed from ``loss_curve_data`` (NaN/inf arrive as the JSON-safe strings
"nan", "inf", "-inf"). The definitions are deliberately simple so a plain
sentence can explain each one:

- spike: a finite loss more than ``SPIKE_RATIO`` times the median of the
  ``SPIKE_WINDOW`` points before it (the first point stands in for missing history);
- plateau: the curve split into ten windows; a window pair is flat when the
  mean loss improved by less than ``PLATEAU_REL`` (relative);
  ``plateau_fraction`` is the share of flat pairs;
- overfitting gap: last eval loss minus the training loss logged at the same
  point; ``eval_rise`` is how far the last eval loss climbed above its best.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

SPIKE_RATIO = 1.5
SPIKE_WINDOW = 5
PLATEAU_REL = 0.01
PLATEAU_WINDOWS = 10
OVERFIT_RISE = 0.05  # eval loss 5% above its best while training loss kept falling


def as_float(value: Any) -> float:
    """A curve value as a float: JSON-safe strings back to NaN/inf, missing to NaN."""
    if value is None:
        return math.nan
    if isinstance(value, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(value, math.nan)
    return float(value)


@dataclass(frozen=True)
class CurveFeatures:
    n_points: int
    last_step: int | None
    first_loss: float | None
    final_loss: float | None
    min_loss: float | None
    nonfinite: bool
    first_nonfinite_step: int | None
    blowup_ratio: float | None  # largest finite loss / first loss
    spikes: int
    plateau_fraction: float | None
    plateau_from_step: int | None
    overfit_gap: float | None
    eval_rise: float | None
    overfitting: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


EMPTY = CurveFeatures(n_points=0, last_step=None, first_loss=None, final_loss=None, min_loss=None,
                      nonfinite=False, first_nonfinite_step=None, blowup_ratio=None, spikes=0,
                      plateau_fraction=None, plateau_from_step=None, overfit_gap=None, eval_rise=None,
                      overfitting=False)


def _spikes(loss: np.ndarray) -> int:
    if len(loss) < 2:
        return 0
    # Median of the up-to-SPIKE_WINDOW points before each point (edge-padded so early points count).
    padded = np.concatenate([np.full(SPIKE_WINDOW - 1, loss[0]), loss])
    windows = np.lib.stride_tricks.sliding_window_view(padded[:-1], SPIKE_WINDOW)
    reference = np.median(windows, axis=1)
    return int(np.sum((reference > 0) & (loss[1:] > SPIKE_RATIO * reference)))


def _plateau(loss: np.ndarray, steps: np.ndarray) -> tuple[float | None, int | None]:
    if len(loss) < 2 * PLATEAU_WINDOWS:
        return None, None
    chunks = np.array_split(np.arange(len(loss)), PLATEAU_WINDOWS)
    means = np.array([loss[c].mean() for c in chunks])
    rel = (means[:-1] - means[1:]) / np.maximum(np.abs(means[:-1]), 1e-12)
    flat = rel < PLATEAU_REL
    since = None
    # Pair i compares windows i and i+1; the plateau starts at the window after the last improvement.
    improving = np.flatnonzero(~flat)
    start = 0 if len(improving) == 0 else int(improving[-1]) + 1
    if start < len(flat):
        since = int(steps[chunks[start][0]])
    return float(flat.mean()), since


def curve_features(points: Sequence[dict[str, Any]] | None) -> CurveFeatures:
    """Shape features of one curve (``loss_curve_data`` or ``Store.loss_points``)."""
    if not points:
        return EMPTY
    steps = np.array([int(p.get("step", i)) for i, p in enumerate(points)])
    raw = np.array([as_float(p.get("loss")) for p in points])
    evals = np.array([as_float(p.get("eval_loss")) for p in points])
    bad = np.flatnonzero(np.isinf(raw) | (np.isnan(raw) & np.array([p.get("loss") is not None for p in points])))
    finite = np.isfinite(raw)
    loss, fsteps = raw[finite], steps[finite]
    first = float(loss[0]) if len(loss) else None
    blowup = float(loss.max() / loss[0]) if len(loss) and loss[0] > 0 else None
    plateau_fraction, plateau_from = _plateau(loss, fsteps)
    gap = rise = None
    overfitting = False
    eval_at = np.flatnonzero(np.isfinite(evals))
    if len(eval_at):
        last = int(eval_at[-1])
        if finite[last]:
            gap = float(evals[last] - raw[last])
        best = int(eval_at[np.argmin(evals[eval_at])])
        rise = float(evals[last] - evals[best])
        later_train = raw[best:last + 1][finite[best:last + 1]]
        overfitting = bool(
            last > best and rise > OVERFIT_RISE * abs(evals[best])
            and len(later_train) > 1 and later_train[-1] < later_train[0])
    return CurveFeatures(
        n_points=len(points), last_step=int(steps[-1]), first_loss=first,
        final_loss=float(loss[-1]) if len(loss) else None, min_loss=float(loss.min()) if len(loss) else None,
        nonfinite=bool(len(bad)), first_nonfinite_step=int(steps[bad[0]]) if len(bad) else None,
        blowup_ratio=blowup, spikes=_spikes(loss), plateau_fraction=plateau_fraction,
        plateau_from_step=plateau_from, overfit_gap=gap, eval_rise=rise, overfitting=overfitting)
