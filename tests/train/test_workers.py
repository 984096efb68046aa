"""Data-parallel training on Ray Train (``workers > 1``) on the session's local Ray head (2 CPUs)."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hubkit.archive import open_archive
from hubkit.errors import ConfigError, MissingExtra, ValidationError
from hubkit.jobs.rayhead import LocalHead, free_port
from hubkit.store import LocalStore
from hubkit.store.records import RunRecord
from hubkit.train import TrainSpec, resume, run
from tests.train.conftest import small_spec

# With the same global batch and seed, 2 workers see the same rows per step as 1 worker and
# DDP averages their gradients, so the curves differ only by fp32 summation order (measured:
# at most 2.4e-7 over 6 steps at losses near 3.5). 1e-4 leaves a wide margin for that and still
# catches a wrong split: a worker training on the whole batch, or on the same half as the other,
# moves the loss by more than 1e-2 from the second step on.
PARITY_TOLERANCE = 1e-4
KILL_BOUND_S = 120
"""A dead worker must end the run well before the 300 s collective timeout: Ray's health check."""


@pytest.fixture
def on_ray(local_ray_head: LocalHead, monkeypatch: pytest.MonkeyPatch) -> LocalHead:
    """Multi-worker runs join the session's head."""
    monkeypatch.setenv("HUBKIT_RAY_TRAIN_ADDRESS", local_ray_head.gcs_address)
    return local_ray_head


def _spec(**changes: Any) -> dict[str, Any]:
    # No dropout: each worker would draw its own dropout masks, the one thing DDP does not share.
    return small_spec(**{"max_steps": 6, "batch_size": 4, "lora_dropout": 0.0, "validation_fraction": 0.0,
                         "checkpoint_interval": 3, "lr_scheduler": "constant", **changes})


def _curve(store: LocalStore, run_id: int) -> dict[int, float]:
    """The run's training-loss points so far (a running run's too)."""
    return {p["step"]: p["loss"] for p in store.loss_points(run_id) if p.get("loss") is not None}


@pytest.mark.slow
def test_two_workers_keep_one_record_and_follow_the_one_worker_curve(hub: LocalStore, on_ray: LocalHead) -> None:
    spec = _spec()
    one = run(spec, store=hub, owner="alice")
    two = run({**spec, "workers": 2}, store=hub, owner="alice")
    assert one.outcome == "success" and two.outcome == "success", two.message
    row = hub.get_run(two.run_id)
    assert row.training_outcome.value == "success" and two.steps == 6 and row.config["workers"] == 2
    assert set(row.artifacts) == {"adapter", "checkpoint-3", "checkpoint-6"}
    assert two.adapter_dir is not None and (two.adapter_dir / "adapter_model.safetensors").is_file()
    curve_one, curve_two = _curve(hub, one.run_id), _curve(hub, two.run_id)
    assert sorted(curve_two) == list(range(1, 7))  # one point per step: rank 0 alone records
    diffs = [abs(curve_one[s] - curve_two[s]) for s in curve_one]
    assert max(diffs) <= PARITY_TOLERANCE, diffs


def _train_workers() -> list[Any]:
    from ray.util.state import list_actors

    return list_actors(filters=[("class_name", "=", "RayTrainWorker"), ("state", "=", "ALIVE")])


@pytest.mark.slow
def test_a_worker_killed_mid_training_ends_the_run_as_a_recorded_failure(hub: LocalStore,
                                                                         on_ray: LocalHead) -> None:
    started: list[RunRecord] = []
    killed: list[float] = []

    def kill_one_worker_once_training() -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if started and len(_curve(hub, started[0].id)) >= 2:
                workers = _train_workers()
                if len(workers) == 2:
                    os.kill(int(workers[-1].pid), signal.SIGKILL)
                    killed.append(time.monotonic())
                    return
            time.sleep(0.5)

    killer = threading.Thread(target=kill_one_worker_once_training, daemon=True)
    killer.start()
    result = run(_spec(max_steps=400, workers=2), store=hub, owner="alice", on_record=started.append)
    ended = time.monotonic()
    killer.join(timeout=5)
    assert killed, "no worker was killed: the run ended before two points were recorded"
    assert ended - killed[0] < KILL_BOUND_S
    row = hub.get_run(result.run_id)
    assert row.training_outcome.value == "failure" and row.failure_class == "worker_lost"
    assert "stopped unexpectedly" in (row.failure_message or "")
    assert 2 <= len(_curve(hub, result.run_id)) < 400 and "adapter" not in row.artifacts


@pytest.mark.slow
def test_a_cancelled_two_worker_run_resumes_on_two_workers_from_its_checkpoint(
        hub: LocalStore, on_ray: LocalHead, tmp_path: Path) -> None:
    started: list[RunRecord] = []
    cancel = lambda: bool(started) and len(_curve(hub, started[0].id)) >= 3
    first = run(_spec(max_steps=40, workers=2), store=hub, owner="alice", on_record=started.append,
                cancel=cancel)
    assert first.outcome == "partial" and first.failure_class == "cancelled", first.message
    stopped_at = first.steps
    artifacts = hub.get_run(first.run_id).artifacts
    assert 3 <= stopped_at < 40 and f"checkpoint-{stopped_at}" in artifacts
    folder = open_archive().get_dir(artifacts[f"checkpoint-{stopped_at}"], tmp_path / "checkpoint")
    assert {"rng_state_0.pth", "rng_state_1.pth"} <= {p.name for p in folder.iterdir()}  # both workers' RNG

    child = resume(first.run_id, store=hub, owner="alice", changes={"max_steps": stopped_at + 2})
    assert child.outcome == "success", child.message
    row = hub.get_run(child.run_id)
    assert row.parent_model_id == first.run_id and row.config["workers"] == 2
    assert sorted(_curve(hub, child.run_id)) == [stopped_at + 1, stopped_at + 2]
    restored = [e.payload for e in hub.list_events(child.run_id) if e.kind == "checkpoint_restored"]
    assert restored and restored[0]["from_step"] == stopped_at
    assert "adapter" in row.artifacts


def test_workers_must_split_the_batch_evenly_and_stay_in_range() -> None:
    with pytest.raises(ValidationError, match=r"batch size \(6\) cannot be split evenly between 4 workers") as err:
        TrainSpec.parse(small_spec(batch_size=6, workers=4))
    assert err.value.field == "workers"
    for bad in (0, 257):
        with pytest.raises(ValidationError, match="Workers") as err:
            TrainSpec.parse(small_spec(workers=bad))
        assert err.value.field == "workers"
    assert TrainSpec.parse(small_spec()).workers == 1


def _refused_before_recording(hub: LocalStore, error: type[Exception], match: str) -> None:
    before = len(hub.list_runs(viewer="alice"))
    with pytest.raises(error, match=match):
        run(_spec(workers=2), store=hub, owner="alice")
    assert len(hub.list_runs(viewer="alice")) == before


def test_several_workers_without_a_configured_cluster_are_refused_in_a_sentence(
        hub: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBKIT_RAY_TRAIN_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    _refused_before_recording(hub, ConfigError, "needs a Ray cluster, and none is configured")
    monkeypatch.setenv("HUBKIT_RAY_TRAIN_ADDRESS", f"127.0.0.1:{free_port()}")
    _refused_before_recording(hub, ConfigError, r"The Ray cluster at 127\.0\.0\.1:\d+ cannot be reached")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    _refused_before_recording(hub, MissingExtra, "Ray")
