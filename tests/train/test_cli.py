"""``hubkit train`` from the command line: presets, spec files, --check, outcomes."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hubkit.cli import main
from hubkit.store import LocalStore
from tests.train.conftest import small_spec

pytestmark = pytest.mark.slow


def test_preset_with_example_data(hub: LocalStore, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--preset", "quick", "--base", "llama3-standin", "--example", "math", "--rows", "16",
                 "--max-steps", "2", "--validation-fraction", "0", "--owner", "alice", "--threads", "1",
                 "--eval-limit", "2"])
    out = capsys.readouterr()
    assert code == 0, out.err
    run = hub.list_runs(owner="alice")[0]
    assert f"run {run.id} ({run.slug}): success" in out.out and "adapter:" in out.out
    assert run.domain == "math" and run.config["lora_r"] == 8  # the quick preset's rank
    assert run.config["max_steps"] == 2 and run.executed_by.value == "platform"
    assert "Training" in out.err  # the status lines and the bar go to stderr
    assert "evaluated on" in out.out and hub.get_run(run.id).evaluated_at is not None  # no hub: scored here
    assert len({e.task for e in hub.list_evaluations(model_id=run.id)}) == len(hub.list_evaluations(model_id=run.id))


def test_spec_file_and_failure_exit_code(hub: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(small_spec(learning_rate=10.0, max_steps=40, validation_fraction=0)))
    assert main(["train", "--spec", str(path), "--owner", "bob", "--no-eval"]) == 1
    out = capsys.readouterr().out
    assert "failure [divergence]" in out and "lower learning rate" in out


def test_check_only_estimates(hub: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(small_spec()))
    assert main(["train", "--spec", str(path), "--check"]) == 0
    out = capsys.readouterr().out
    assert "fits this machine" in out and "trainable" in out
    assert hub.list_runs() == []


def test_bad_settings_are_one_plain_line(hub: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(small_spec(lora_alpha=-1)))
    assert main(["train", "--spec", str(path)]) == 2
    assert "LoRA alpha (lora_alpha): must be greater than 0" in capsys.readouterr().err
    assert main(["train", "--spec", str(tmp_path / "missing.yaml")]) == 2
    assert "could not be read" in capsys.readouterr().err


def test_fork_and_resume_from_the_command_line(hub: LocalStore, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--base", "llama3-standin", "--example", "math", "--rows", "16", "--validation-fraction", "0",
              "--owner", "alice", "--threads", "1", "--no-eval"]
    assert main(["train", *common, "--max-steps", "2"]) == 0
    parent = hub.list_runs(owner="alice")[0]
    assert main(["train", *common, "--max-steps", "2", "--fork", str(parent.id)]) == 0
    assert main(["train", "--resume", str(parent.id), "--owner", "alice", "--no-eval"]) == 0
    children = {r.parent_relation: r for r in hub.children(parent.id)}
    assert set(children) == {"fork", "resume"}
    capsys.readouterr()
