"""Each way a run can end, induced for real on a stand-in, classified, with its curve kept."""
from __future__ import annotations

import math
import threading

import pytest
import torch

from hubkit.store import LocalStore
from hubkit.train import TrainSpec, run
from tests.train.conftest import Calls, small_spec

pytestmark = pytest.mark.slow


def _events(hub: LocalStore, run_id: int) -> dict[str, dict]:
    return {e.kind: e.payload for e in hub.list_events(run_id)}


def test_huge_learning_rate_diverges_and_stops_early(hub: LocalStore) -> None:
    result = run(TrainSpec.parse(small_spec(learning_rate=10.0, max_steps=60, validation_fraction=0,
                                            checkpoint_interval=2)),
                 store=hub, owner="alice")
    row = hub.get_run(result.run_id)
    assert (row.training_outcome.value, row.failure_class) == ("failure", "divergence")
    assert "lower learning rate" in row.failure_message
    assert result.steps < 20  # stopped within a few steps instead of burning the budget
    losses = [p["loss"] for p in row.loss_curve_data]
    assert len(losses) == result.steps
    last = losses[-1]
    assert last in ("nan", "inf") or (isinstance(last, float) and last > 5 * min(
        v for v in losses if isinstance(v, float) and math.isfinite(v)))
    assert "divergence" in _events(hub, row.id)
    assert "adapter" not in row.artifacts and result.model is None
    # No checkpoint was written at or after the diverged step: the last one is the last good one.
    steps = [int(k.split("-")[1]) for k in row.artifacts if k.startswith("checkpoint-")]
    assert all(s < result.steps for s in steps)


def test_injected_out_of_memory_is_classified_with_a_hint(hub: LocalStore) -> None:
    def oom() -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    result = run(TrainSpec.parse(small_spec(max_steps=20, validation_fraction=0)), store=hub, owner="alice",
                 progress=Calls(at_step=3, action=oom))
    row = hub.get_run(result.run_id)
    assert (row.training_outcome.value, row.failure_class) == ("failure", "oom")
    assert "smaller batch size" in row.failure_message and "gradient checkpointing" in row.failure_message
    assert [p["step"] for p in row.loss_curve_data] == [1, 2, 3]
    assert "oom" in _events(hub, row.id)


def test_an_exception_is_a_failure_naming_its_type(hub: LocalStore) -> None:
    def broken() -> None:
        raise KeyError("text")

    result = run(TrainSpec.parse(small_spec(max_steps=20, validation_fraction=0)), store=hub, owner="alice",
                 progress=Calls(at_step=2, action=broken))
    row = hub.get_run(result.run_id)
    assert (row.training_outcome.value, row.failure_class) == ("failure", "exception")
    assert "KeyError" in row.failure_message
    assert len(row.loss_curve_data) == 2
    assert isinstance(result.error, KeyError)


def test_time_budget_gives_a_partial_run_with_a_usable_adapter(hub: LocalStore) -> None:
    result = run(TrainSpec.parse(small_spec(max_steps=10_000, time_budget_s=3, validation_fraction=0,
                                            checkpoint_interval=10_000)),
                 store=hub, owner="alice")
    row = hub.get_run(result.run_id)
    assert (row.training_outcome.value, row.failure_class) == ("partial", "time_budget")
    assert 1 <= result.steps < 10_000 and len(row.loss_curve_data) == result.steps
    assert "adapter" in row.artifacts and f"checkpoint-{result.steps}" in row.artifacts
    assert "time_budget" in _events(hub, row.id)


def test_cancel_gives_a_partial_run(hub: LocalStore) -> None:
    stop = threading.Event()
    result = run(TrainSpec.parse(small_spec(max_steps=50, validation_fraction=0)), store=hub, owner="alice",
                 cancel=stop, progress=Calls(at_step=3, action=stop.set))
    row = hub.get_run(result.run_id)
    assert (row.training_outcome.value, row.failure_class) == ("partial", "cancelled")
    assert result.steps == 4 and "adapter" in row.artifacts and "checkpoint-4" in row.artifacts
    assert _events(hub, row.id)["cancel"]["step"] == 4


def test_cancel_may_be_a_callable(hub: LocalStore) -> None:
    result = run(TrainSpec.parse(small_spec(max_steps=50, validation_fraction=0)), store=hub, owner="alice",
                 cancel=lambda: True)
    assert (result.outcome, result.failure_class, result.steps) == ("partial", "cancelled", 1)


def test_early_stop_without_improvement_is_a_failure(hub: LocalStore) -> None:
    result = run(TrainSpec.parse(small_spec(learning_rate=1e-7, max_steps=40, eval_interval=2,
                                            early_stopping_patience=2, early_stopping_threshold=0.01)),
                 store=hub, owner="alice")
    row = hub.get_run(result.run_id)
    assert (row.training_outcome.value, row.failure_class) == ("failure", "early_stop_no_improvement")
    assert result.steps == 4  # checks at 0 (baseline), 2 and 4
    assert _events(hub, row.id)["early_stop"] == {"step": 4, "improved": False, "checks": 3}


def test_early_stop_after_improving_is_a_success(hub: LocalStore) -> None:
    result = run(TrainSpec.parse(small_spec(learning_rate=5e-3, max_steps=60, eval_interval=2,
                                            early_stopping_patience=1, early_stopping_threshold=0.05,
                                            dataset={"example": "math", "example_rows": 80})),
                 store=hub, owner="alice")
    row = hub.get_run(result.run_id)
    assert row.training_outcome.value == "success" and row.failure_class is None, row.failure_message
    assert result.steps < 60
    event = _events(hub, row.id)["early_stop"]
    assert event["improved"] is True and event["step"] == result.steps
    assert "adapter" in row.artifacts
