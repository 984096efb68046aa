"""Divergence detection on the raw loss of every step.

HF's ``logging_nan_inf_filter`` hides NaN/inf, and ``loss > threshold`` is
False for NaN, so the checks here test finiteness first and compare only
finite numbers. A blow-up is the loss staying ``factor`` times above its
lowest value for ``patience`` steps in a row; one noisy step is not enough.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Divergence:
    step: int
    loss: float
    reason: str
    """Plain sentence for the run record."""


class DivergenceGuard:
    def __init__(self, *, factor: float = 5.0, patience: int = 3) -> None:
        self.factor = factor
        self.patience = patience
        self.best: float | None = None
        self._above = 0
        self.tripped: Divergence | None = None

    def observe(self, step: int, loss: float) -> Divergence | None:
        """Feed one raw loss; returns the divergence once it is detected (and from then on)."""
        if self.tripped is not None:
            return self.tripped
        if not math.isfinite(loss):
            self.tripped = Divergence(step, loss, f"the loss became {_name(loss)} at step {step}")
            return self.tripped
        if self.best is None or loss < self.best:
            self.best = loss
        if self.best > 0 and loss > self.factor * self.best:
            self._above += 1
        else:
            self._above = 0
        if self._above >= self.patience:
            self.tripped = Divergence(
                step, loss,
                f"the loss blew up to {loss:.4g} at step {step}, more than {self.factor:g} times "
                f"its lowest value {self.best:.4g}, for {self.patience} steps in a row",
            )
        return self.tripped


def _name(value: float) -> str:
    if math.isnan(value):
        return "NaN (not a number)"
    return "infinite" if value > 0 else "minus infinity"
