"""End-to-end runs on the stand-ins: what a run leaves in the record, in the archive and on disk."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from peft import PeftModel

from hubkit.archive import open_archive
from hubkit.catalog import FAMILIES, load_base
from hubkit.errors import ValidationError
from hubkit.store import LocalStore
from hubkit.train import TrainSpec, run
from tests.train.conftest import Calls, small_spec

pytestmark = pytest.mark.slow


def _front_matter(readme: str) -> dict:
    return yaml.safe_load(readme.split("---\n")[1])


def test_a_successful_run_records_curve_versions_dataset_and_artifacts(hub: LocalStore, tmp_path: Path) -> None:
    calls = Calls()
    result = run(TrainSpec.parse(small_spec()), store=hub, owner="alice", progress=calls)
    assert result.outcome == "success" and result.failure_class is None and result.steps == 8

    row = hub.get_run(result.run_id)
    assert row.training_outcome.value == "success" and row.parent_model_id is None
    train_points = [p for p in row.loss_curve_data if p.get("loss") is not None]
    eval_points = [p for p in row.loss_curve_data if p.get("eval_loss") is not None]
    assert [p["step"] for p in train_points] == list(range(1, 9))
    assert [p["step"] for p in eval_points] == [0, 4, 8]  # a baseline before training, then every 4 steps
    assert all(p["lr"] is not None and p["grad_norm"] is not None for p in train_points)
    assert calls.steps[:2] == [0, 1] and "Training" in calls.statuses

    assert row.versions["torch"] == torch.__version__ and row.versions["peft"]
    assert row.hardware["kind"] == "cpu"
    assert row.hardware["cpu_count"] >= 1 and row.hardware["precision"] == "fp32"
    assert row.config == TrainSpec.parse(row.config).model_dump(mode="json")
    assert row.config["target_modules"] is None  # the spec as given; the adapter says what was used
    dataset = hub.get_dataset(row.dataset_id)
    assert row.dataset_fingerprint == dataset.fingerprint and dataset.n_rows == 40

    assert set(row.artifacts) == {"adapter", "checkpoint-4", "checkpoint-8"}
    folder = open_archive().get_dir(row.artifacts["adapter"], tmp_path / "adapter")
    assert (folder / "adapter_model.safetensors").is_file()
    assert not list(folder.glob("*.bin"))
    meta = _front_matter((folder / "README.md").read_text())
    assert meta["base_model"] == "llama3-standin" and meta["base_model_relation"] == "adapter"
    assert meta["library_name"] == "peft" and "stand-in" in meta["tags"]
    assert meta["datasets"] == [dataset.name]
    assert TrainSpec.parse(yaml.safe_load((folder / "hubkit-train.yaml").read_text())).lora_r == 4
    assert json.loads((folder / "hubkit-dataset.json").read_text())["fingerprint"] == dataset.fingerprint
    assert json.loads((folder / "adapter_config.json").read_text())["target_modules"]

    # Plain PEFT reload gives the logits the model had at the end of training.
    base, tokenizer = load_base("llama3-standin")
    reloaded = PeftModel.from_pretrained(base, str(folder)).eval()
    ids = tokenizer("Tom has 3 apples and buys 4 more.", return_tensors="pt")["input_ids"]
    result.model.eval()
    with torch.no_grad():
        assert torch.equal(reloaded(input_ids=ids).logits, result.model(input_ids=ids).logits)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_trains(hub: LocalStore, family: str) -> None:
    result = run(TrainSpec.parse(small_spec(base_model=f"{family}-standin", max_steps=3,
                                            validation_fraction=0, checkpoint_interval=100)),
                 store=hub, owner="alice")
    assert result.outcome == "success", result.message
    adapter_targets = set(result.model.peft_config["default"].target_modules)
    assert adapter_targets == set(FAMILIES[family].lora_targets)
    assert len(hub.get_run(result.run_id).loss_curve_data) == 3


def test_same_spec_and_seed_give_the_same_curve(hub: LocalStore) -> None:
    spec = TrainSpec.parse(small_spec(max_steps=6, lora_dropout=0.1))
    first = run(spec, store=hub, owner="alice")
    second = run(spec, store=hub, owner="alice")
    curve = hub.get_run(first.run_id).loss_curve_data
    assert curve == hub.get_run(second.run_id).loss_curve_data
    other = run(spec.model_copy(update={"seed": 7}), store=hub, owner="alice")
    assert hub.get_run(other.run_id).loss_curve_data != curve


def test_merged_model_is_saved_with_a_finetune_card(hub: LocalStore, tmp_path: Path) -> None:
    result = run(TrainSpec.parse(small_spec(max_steps=2, merge_after=True, validation_fraction=0)),
                 store=hub, owner="alice")
    folder = open_archive().get_dir(result.artifacts["merged"], tmp_path / "merged")
    assert _front_matter((folder / "README.md").read_text())["base_model_relation"] == "finetune"
    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(str(folder)).eval()
    ids = torch.tensor([[5, 6, 7, 8]])
    result.model.eval()
    with torch.no_grad():
        assert torch.allclose(merged(input_ids=ids).logits, result.model(input_ids=ids).logits, atol=1e-4)


def test_lineage_needs_both_parent_and_relation_and_nothing_is_recorded(hub: LocalStore) -> None:
    with pytest.raises(ValidationError):
        run(TrainSpec.parse(small_spec()), store=hub, owner="alice", parent_model_id=1)
    with pytest.raises(ValidationError):
        run(TrainSpec.parse(small_spec()), store=hub, owner="alice", relation="fork")
    assert hub.list_runs() == []
