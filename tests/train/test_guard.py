"""Divergence detection fires on real NaN/inf and on blow-ups, and not on noise."""
from __future__ import annotations

import math

from hubkit.train.guard import DivergenceGuard


def test_real_nan_trips_although_nan_compares_false() -> None:
    nan = float("nan")
    assert not (nan > 1.0)  # the trap a threshold check falls into
    guard = DivergenceGuard()
    assert guard.observe(1, 2.0) is None
    tripped = guard.observe(2, nan)
    assert tripped is not None and tripped.step == 2 and "NaN" in tripped.reason
    assert guard.observe(3, 1.0) is tripped  # once diverged, stays diverged


def test_infinity_trips() -> None:
    tripped = DivergenceGuard().observe(5, math.inf)
    assert tripped is not None and "infinite" in tripped.reason


def test_blow_up_needs_patience_steps_in_a_row() -> None:
    guard = DivergenceGuard(factor=5.0, patience=3)
    for step, loss in enumerate([4.0, 2.0, 1.0, 6.0, 0.9, 7.0, 8.0], start=1):
        assert guard.observe(step, loss) is None, step  # single spikes are noise
    tripped = guard.observe(8, 9.0)
    assert tripped is not None and tripped.step == 8 and "blew up" in tripped.reason


def test_a_falling_curve_never_trips() -> None:
    guard = DivergenceGuard()
    assert all(guard.observe(i, 5.0 / i) is None for i in range(1, 200))
