"""TrainSpec: one place for bounds and help, and errors a person can act on."""
from __future__ import annotations

import pytest

from hubkit.errors import ValidationError
from hubkit.train import TrainSpec, field_help

BASE = {"base_model": "llama3-standin", "dataset": {"example": "math"}, "domain": "math"}


def test_defaults_are_a_valid_spec() -> None:
    spec = TrainSpec.parse(BASE)
    assert spec.precision == "auto" and spec.num_epochs == 1.0 and spec.max_steps is None
    assert spec.display_name == "math on llama3-standin"


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"lora_alpha": 0}, "lora_alpha", "greater than 0"),
    ({"lora_alpha": -4}, "lora_alpha", "LoRA alpha"),
    ({"lora_r": 0}, "lora_r", "LoRA rank"),
    ({"learning_rate": 0}, "learning_rate", "Learning rate"),
    ({"lora_dropout": 1.0}, "lora_dropout", "less than 1"),
    ({"validation_fraction": 0.9}, "validation_fraction", "Validation share"),
    ({"precision": "fp8"}, "precision", "'auto', 'fp32', 'bf16' or 'fp16'"),
    ({"num_epochs": None, "max_steps": None}, None, "how long to train"),
    ({"early_stopping_patience": 2, "validation_fraction": 0}, None, "held-back data"),
    ({"target_modules": ["q_proj", "../x"]}, None, "layer names"),
    ({"dataset": {"example": "math", "path": "a.jsonl"}}, "dataset", "exactly one data source"),
    ({"dataset": {}}, "dataset", "exactly one data source"),
    ({"parent_model_id": 3}, "parent_model_id", "not a training setting"),
])
def test_bad_values_are_refused_in_plain_words(change: dict, field: str | None, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        TrainSpec.parse({**BASE, **change}, source="spec.yaml")
    assert words in err.value.message
    assert err.value.message.startswith("spec.yaml: ")
    assert err.value.field == field


def test_lineage_cannot_be_typed_into_a_spec() -> None:
    """parent_model_id is set only by the platform's fork/resume path."""
    assert "parent_model_id" not in TrainSpec.model_fields
    with pytest.raises(ValidationError):
        TrainSpec.parse({**BASE, "relation": "fork"})


def test_field_help_covers_every_field_with_bounds_and_level() -> None:
    help_ = field_help()
    for name in TrainSpec.model_fields:
        if name != "dataset":
            assert help_[name]["help"], name
            assert help_[name]["level"] in {"guided", "advanced"}, name
    assert help_["lora_alpha"]["exclusiveMinimum"] == 0
    assert help_["lora_r"]["minimum"] == 1
    assert help_["precision"]["choices"] == ["auto", "fp32", "bf16", "fp16"]
    assert help_["dataset.example"]["level"] == "guided"
    assert help_["base_model"]["required"] is True
    # The help is the field definition itself, not a copy.
    assert help_["learning_rate"]["help"] == TrainSpec.model_fields["learning_rate"].description


def test_yaml_round_trip() -> None:
    import yaml

    spec = TrainSpec.parse({**BASE, "lora_r": 4, "target_modules": ["q_proj"], "max_steps": 7})
    assert TrainSpec.parse(yaml.safe_load(spec.to_yaml())) == spec


def test_target_modules_are_checked_against_the_family() -> None:
    with pytest.raises(ValidationError) as err:
        TrainSpec.parse({**BASE, "target_modules": ["q_proj", "qkv_proj"]})
    assert "The layer qkv_proj is not in LlamaForCausalLM" in err.value.message
    assert "q_proj, k_proj" in err.value.message  # says what to choose instead
    phi = TrainSpec.parse({**BASE, "base_model": "phi3-standin", "target_modules": ["qkv_proj", "gate_up_proj"]})
    assert phi.target_modules == ["qkv_proj", "gate_up_proj"]
    with pytest.raises(ValidationError, match="layer q_proj is not in Phi3ForCausalLM"):
        TrainSpec.parse({**BASE, "base_model": "phi3-standin", "target_modules": ["q_proj"]})
