"""The math suite is sensitive enough to show what fine-tuning a stand-in on math teaches."""
from __future__ import annotations

import math

import pytest

from hubkit.evaluate import on_run_finished
from tests.evaluate.conftest import BASE_KEY, EvalWorld

STEPS = 120


@pytest.mark.slow
def test_a_stand_in_fine_tuned_on_math_scores_higher_on_the_math_suite(world: EvalWorld) -> None:
    import torch

    from hubkit.train import TrainSpec, run

    torch.set_num_threads(2)
    spec = TrainSpec.parse({
        "base_model": BASE_KEY, "domain": "math", "name": "math tune",
        "dataset": {"example": "math", "example_rows": 400}, "max_steps": STEPS, "batch_size": 8,
        "max_seq_len": 128, "lora_r": 16, "lora_alpha": 32, "target_mlp": True, "learning_rate": 1e-2,
        "warmup_ratio": 0.05, "validation_fraction": 0.05, "eval_interval": 1000})
    result = run(spec, store=world.store, owner="alice")
    assert result.outcome == "success"

    report = on_run_finished(world.store, result.run_id, domains=["math"])
    assert report is not None
    base = {s.task: s for s in _cached_base_scores(world)}
    tuned = report.score("math", "microworld_math_choice")
    before = base["microworld_math_choice"]
    assert tuned.status == before.status == "scored" and tuned.stamp == before.stamp
    margin = 2 * math.hypot(tuned.stderr, before.stderr)
    assert tuned.value - before.value > margin, (before.value, tuned.value, margin)
    row = next(r for r in world.store.list_evaluations(model_id=result.run_id) if r.task == "microworld_math_choice")
    assert row.delta_base == pytest.approx(tuned.value - before.value)
    assert report.score("math", "microworld_math").status == "scored"


def _cached_base_scores(world: EvalWorld) -> list:  # type: ignore[type-arg]
    """The baseline the trigger recorded before the run (reused, not recomputed)."""
    from hubkit.evaluate import evaluate_base

    report = evaluate_base(store=world.store, base_key=BASE_KEY, domains=["math"])
    assert report.model_loads == 0
    return report.scores
