"""QLoRA: a quantized base is refused on a CPU before anything is recorded; the estimate shrinks."""
from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from hubkit.errors import ValidationError
from hubkit.store import LocalStore
from hubkit.train import TrainSpec, field_help, run
from hubkit.train import quantization as quant
from hubkit.train.estimate import estimate_memory
from tests.fixtures.db import seed_minimal
from tests.train.conftest import small_spec
from tests.train.test_hardware import A100, CPU


@pytest.mark.parametrize("bits", ["4bit", "8bit"])
def test_quantized_run_on_a_cpu_is_refused_in_a_sentence_and_nothing_is_recorded(settings, bits: str) -> None:
    store = LocalStore(settings.database_url)
    seed_minimal(store)
    before = len(store.list_runs())
    with pytest.raises(ValidationError) as refused:
        run(TrainSpec.parse(small_spec(quantization=bits)), store=store, owner="alice", device="cpu")
    assert str(refused.value) == (f"Quantization ({bits}) needs an NVIDIA GPU, and this run would train on "
                                  "the CPU. Set quantization to none to train here, or run it on a machine "
                                  "with a GPU.")
    assert refused.value.field == "quantization"
    assert len(store.list_runs()) == before


def test_the_setting_has_plain_help_and_defaults_to_none() -> None:
    entry = field_help()["quantization"]
    assert entry["default"] == "none" and entry["choices"] == ["none", "8bit", "4bit"]
    assert "NVIDIA GPU" in entry["help"] and entry["label"] == "Quantization"
    with pytest.raises(ValidationError, match="Quantization"):
        TrainSpec.parse(small_spec(quantization="2bit"))


def test_a_gpu_gets_nf4_with_double_quantization_at_the_training_precision() -> None:
    quant.check("none", CPU)  # nothing to refuse
    quant.check("4bit", A100, loads_here=False)  # planning for another machine
    config = quant.load_arguments("4bit", "bf16")["quantization_config"]
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == torch.bfloat16
    assert quant.load_arguments("8bit", "fp16")["quantization_config"].load_in_8bit
    assert quant.load_arguments("none", "bf16") == {}


def test_the_memory_estimate_counts_quantized_weights() -> None:
    config = LlamaConfig(hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
                         num_key_value_heads=4, vocab_size=1000)
    model = LlamaForCausalLM(config)
    parameters = sum(p.numel() for p in model.parameters())
    linear = quant.quantized_parameters(model)
    assert 0 < linear < parameters  # embeddings, norms and the output head stay unquantized

    def weights(bits: str) -> int:
        spec = TrainSpec.parse(small_spec(quantization=bits))
        return estimate_memory(config=config, parameters=parameters, trainable=1000, spec=spec,
                               precision="bf16", seq_len=64, quantized=linear).weights

    assert weights("none") == 2 * parameters
    assert weights("8bit") == linear + 4 * (parameters - linear)
    assert weights("4bit") == int(linear * quant.BYTES_PER_WEIGHT["4bit"] + 4 * (parameters - linear))
    assert weights("4bit") < weights("8bit")
