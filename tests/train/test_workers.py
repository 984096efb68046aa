"""Data-parallel training on Ray Train (``workers > 1``) on the session's local Ray head (2 CPUs)."""
from __future__ import annotations

import pytest

from hubkit.jobs.rayhead import LocalHead
from hubkit.store import LocalStore
from hubkit.train import run
from tests.train.conftest import small_spec

pytestmark = pytest.mark.slow

PARITY_TOLERANCE = 1e-3


@pytest.fixture
def on_ray(local_ray_head: LocalHead, monkeypatch: pytest.MonkeyPatch) -> LocalHead:
    """Multi-worker runs join the session's head."""
    monkeypatch.setenv("HUBKIT_RAY_TRAIN_ADDRESS", local_ray_head.gcs_address)
    return local_ray_head


def _curve(store: LocalStore, run_id: int) -> dict[int, float]:
    return {p["step"]: p["loss"] for p in store.get_run(run_id).loss_curve_data if p.get("loss") is not None}


def test_two_workers_keep_one_record_and_follow_the_one_worker_curve(hub: LocalStore, on_ray: LocalHead) -> None:
    # No dropout: each worker would draw its own dropout masks, the one thing DDP does not share.
    spec = small_spec(max_steps=6, batch_size=4, lora_dropout=0.0, validation_fraction=0.0,
                      checkpoint_interval=3)
    one = run(spec, store=hub, owner="alice")
    two = run({**spec, "workers": 2}, store=hub, owner="alice")
    assert one.outcome == "success" and two.outcome == "success", two.message
    row = hub.get_run(two.run_id)
    assert row.training_outcome.value == "success" and two.steps == 6
    assert set(row.artifacts) == {"adapter", "checkpoint-3", "checkpoint-6"}
    curve_one, curve_two = _curve(hub, one.run_id), _curve(hub, two.run_id)
    assert sorted(curve_two) == list(range(1, 7))  # one point per step: rank 0 alone records
    diffs = [abs(curve_one[s] - curve_two[s]) for s in curve_one]
    assert max(diffs) <= PARITY_TOLERANCE, diffs
