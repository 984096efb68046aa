"""Fork, continue and resume: child rows whose parent is set by the platform, never typed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from hubkit.archive import open_archive
from hubkit.errors import NotFound, PermissionDenied, ValidationError
from hubkit.store import LocalStore
from hubkit.train import TrainSpec, resume, run
from tests.train.conftest import Calls, small_spec

pytestmark = pytest.mark.slow


def _adapter_weights(digest: str, dest: Path) -> dict[str, torch.Tensor]:
    return load_file(str(open_archive().get_dir(digest, dest) / "adapter_model.safetensors"))


def test_fork_starts_from_the_parents_adapter(hub: LocalStore, tmp_path: Path) -> None:
    parent = run(TrainSpec.parse(small_spec(max_steps=4, lora_r=4, validation_fraction=0)), store=hub, owner="alice")
    with pytest.raises(NotFound):  # private models of others cannot be forked, and nothing is recorded
        run(TrainSpec.parse(small_spec()), store=hub, owner="bob", parent_model_id=parent.run_id, relation="fork")
    assert len(hub.list_runs()) == 1
    hub.set_visibility(parent.run_id, "public", actor="alice")

    # A negligible learning rate: the child's adapter must still be the parent's.
    child = run(TrainSpec.parse(small_spec(max_steps=2, lora_r=16, learning_rate=1e-12, validation_fraction=0,
                                           domain="code", dataset={"example": "code", "example_rows": 16})),
                store=hub, owner="bob", parent_model_id=parent.run_id, relation="fork")
    row = hub.get_run(child.run_id)
    assert row.parent_model_id == parent.run_id and row.parent_relation == "fork"
    assert row.owner == "bob" and row.domain == "code"
    assert "fork" in {e.kind for e in hub.list_events(child.run_id)}
    # The parent's adapter fixes the LoRA settings; the record says what was really trained.
    assert row.config["lora_r"] == 4 and child.spec.lora_r == 4 and row.config["target_modules"]
    before = _adapter_weights(parent.artifacts["adapter"], tmp_path / "p")
    after = _adapter_weights(child.artifacts["adapter"], tmp_path / "c")
    assert before.keys() == after.keys()
    assert all(torch.allclose(before[k], after[k], atol=1e-6) for k in before)
    card = (open_archive().get_dir(child.artifacts["adapter"], tmp_path / "card") / "README.md").read_text()
    assert yaml.safe_load(card.split("---\n")[1])["hubkit"]["parent"] == parent.slug


def test_a_fork_naming_another_base_is_refused_before_anything_is_recorded(hub: LocalStore) -> None:
    parent = hub.create_run(owner="alice", name="p", domain="math", base_model="llama3-standin")
    hub.finish_run(parent.id, outcome="success", artifacts={"adapter": "0" * 64})
    with pytest.raises(ValidationError) as err:
        run(TrainSpec.parse(small_spec(base_model="qwen2.5-standin")), store=hub, owner="alice",
            parent_model_id=parent.id, relation="fork")
    assert err.value.field == "base_model"
    assert err.value.message == (f"The model {parent.slug} was trained on llama3-standin, so a model started from "
                                 "it trains on llama3-standin too; set base_model to 'llama3-standin' instead of "
                                 "'qwen2.5-standin'.")
    assert [r.id for r in hub.list_runs()] == [parent.id]


def test_continue_is_only_for_the_owner(hub: LocalStore) -> None:
    parent = run(TrainSpec.parse(small_spec(max_steps=2, validation_fraction=0)), store=hub, owner="alice")
    hub.set_visibility(parent.run_id, "public", actor="alice")
    with pytest.raises(PermissionDenied):
        run(TrainSpec.parse(small_spec(max_steps=2)), store=hub, owner="bob", parent_model_id=parent.run_id,
            relation="continue")
    child = run(TrainSpec.parse(small_spec(max_steps=2, validation_fraction=0)), store=hub, owner="alice",
                parent_model_id=parent.run_id, relation="continue")
    assert hub.get_run(child.run_id).parent_relation == "continue"


def test_resume_needs_a_complete_checkpoint(hub: LocalStore) -> None:
    finished = run(TrainSpec.parse(small_spec(max_steps=2, checkpoint_interval=100, validation_fraction=0)),
                   store=hub, owner="alice")
    assert "checkpoint-2" in finished.artifacts  # the end of training is always checkpointed
    def crash() -> None:
        raise RuntimeError("lost the data volume")

    crashed = run(TrainSpec.parse(small_spec(max_steps=20, checkpoint_interval=100, validation_fraction=0)),
                  store=hub, owner="alice", progress=Calls(at_step=1, action=crash))
    assert crashed.failure_class == "exception" and not crashed.artifacts
    with pytest.raises(ValidationError, match="no complete checkpoint"):
        resume(crashed.run_id, store=hub, owner="alice")
    assert len(hub.list_runs()) == 2  # the refused resume recorded nothing


def _train_in_subprocess(tmp_path: Path, spec: dict) -> subprocess.Popen:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return subprocess.Popen([sys.executable, "-m", "hubkit.cli", "train", "--spec", str(path), "--owner", "alice",
                             "--threads", "1"], env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])


def _latest_checkpoint(artifacts: dict) -> int:
    return max((int(k.split("-")[1]) for k in artifacts if k.startswith("checkpoint-")), default=0)


def _wait_for(hub: LocalStore, proc: subprocess.Popen, *, points: int, past_checkpoint: bool = False) -> int:
    """Wait until the run has ``points`` points (and, if asked, 2 or more past a complete checkpoint)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        runs = hub.list_runs(owner="alice")
        if runs:
            run_id = runs[0].id
            steps = [p["step"] for p in hub.loss_points(run_id)]
            if len(steps) >= points:
                checkpoint = _latest_checkpoint(hub.get_run(run_id).artifacts)
                if not past_checkpoint or (checkpoint and steps[-1] >= checkpoint + 2):
                    return run_id
        time.sleep(0.05)
    raise AssertionError("the training subprocess did not get far enough in time")


def test_sigkill_is_reaped_as_lost_and_resume_continues_the_curve(hub: LocalStore, tmp_path: Path) -> None:
    spec = small_spec(max_steps=400, checkpoint_interval=10, validation_fraction=0, lr_scheduler="constant",
                      lora_dropout=0.0)
    proc = _train_in_subprocess(tmp_path, spec)
    run_id = _wait_for(hub, proc, points=12, past_checkpoint=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    killed_points = hub.loss_points(run_id)

    assert hub.reap(stale_after_s=0) == [run_id]
    lost = hub.get_run(run_id)
    assert (lost.training_outcome.value, lost.failure_class) == ("failure", "lost")
    assert lost.loss_curve_data == killed_points and len(killed_points) >= 12

    done = _latest_checkpoint(lost.artifacts)
    child = resume(run_id, store=hub, owner="alice", changes={"max_steps": done + 4})
    row = hub.get_run(child.run_id)
    assert row.parent_model_id == run_id and row.parent_relation == "resume"
    assert row.training_outcome.value == "success" and row.dataset_id == lost.dataset_id
    assert [p["step"] for p in row.loss_curve_data] == list(range(done + 1, done + 5))
    events = {e.kind: e.payload for e in hub.list_events(child.run_id)}
    assert events["resume"]["parent_model_id"] == run_id and events["checkpoint_restored"]["from_step"] == done
    # Same data order, optimizer and RNG state: where both exist, the resumed curve repeats the killed one.
    before = {p["step"]: p["loss"] for p in killed_points}
    overlap = [p for p in row.loss_curve_data if p["step"] in before]
    assert overlap, "the killed run should have logged past its last checkpoint"
    for point in overlap:
        assert point["loss"] == pytest.approx(before[point["step"]], rel=1e-4)


def test_sigterm_cancels_cleanly(hub: LocalStore, tmp_path: Path) -> None:
    proc = _train_in_subprocess(tmp_path, small_spec(max_steps=400, validation_fraction=0, checkpoint_interval=1000))
    run_id = _wait_for(hub, proc, points=3)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 1, output
    row = hub.get_run(run_id)
    assert (row.training_outcome.value, row.failure_class) == ("partial", "cancelled"), output
    assert "adapter" in row.artifacts and "partial [cancelled]" in output
