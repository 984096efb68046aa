"""The catalog's registry, listings and records (no model weights needed)."""
from __future__ import annotations

from pathlib import Path

import pytest

from hubkit import catalog
from hubkit.catalog.families import FamilyRegistry
from hubkit.db.models import BaseModel
from hubkit.errors import Conflict, NotFound

ARCH = {
    "llama3": "LlamaForCausalLM",
    "mistral": "MistralForCausalLM",
    "phi3": "Phi3ForCausalLM",
    "qwen2.5": "Qwen2ForCausalLM",
}


def test_four_families_with_their_architectures_and_lora_targets() -> None:
    assert {name: f.architecture for name, f in catalog.FAMILIES.items()} == ARCH
    for name in ("llama3", "mistral", "qwen2.5"):
        f = catalog.get_family(name)
        assert f.lora_targets == ("q_proj", "k_proj", "v_proj", "o_proj")
        assert f.lora_targets_mlp == ("gate_proj", "up_proj", "down_proj")
    phi3 = catalog.get_family("phi3")
    assert phi3.lora_targets == ("qkv_proj", "o_proj")
    assert phi3.lora_targets_mlp == ("gate_up_proj", "down_proj")


def test_real_ids_cover_several_sizes() -> None:
    ids = {m.hf_id for f in catalog.FAMILIES.values() for m in f.models}
    assert {
        "meta-llama/Meta-Llama-3-8B", "meta-llama/Meta-Llama-3-8B-Instruct", "meta-llama/Llama-3.2-1B",
        "mistralai/Mistral-7B-v0.3", "mistralai/Mistral-7B-Instruct-v0.3",
        "microsoft/Phi-3-mini-4k-instruct",
        "Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-1.5B", "Qwen/Qwen2.5-7B-Instruct",
    } <= ids
    keys = [m.key for f in catalog.FAMILIES.values() for m in f.models]
    assert len(keys) == len(set(keys))


def test_registry_refuses_duplicates_and_names_known_families() -> None:
    reg = FamilyRegistry()
    reg.register(catalog.get_family("phi3"))
    with pytest.raises(Conflict):
        reg.register(catalog.get_family("phi3"))
    with pytest.raises(NotFound, match="Known families: llama3, mistral, phi3, qwen2.5"):
        catalog.get_family("gpt2")


def test_listing_labels_standins(hub_home: Path) -> None:
    infos = catalog.list_base_models()
    standins = [i for i in infos if i.is_standin]
    assert [i.key for i in standins] == [f"{n}-standin" for n in ARCH]
    for info in standins:
        assert info.label.endswith("(offline stand-in)")
        assert info.built is False
        assert 100_000 < info.parameters < 10_000_000
    assert not any("stand-in" in i.label for i in infos if not i.is_standin)


def test_records_match_the_base_models_table(hub_home: Path) -> None:
    columns = {c.name for c in BaseModel.__table__.columns} - {"id", "created_at", "benchmark_scores"}
    records = catalog.base_model_records()
    assert len(records) == len(catalog.list_base_models())
    for row in records:
        assert set(row) == columns
        assert row["info"]["label"]
    assert len({r["key"] for r in records}) == len(records)


def test_real_ids_are_refused_cleanly_offline(hub_home: Path) -> None:
    with pytest.raises(NotFound, match="not on this machine"):
        catalog.load_base("qwen2.5-0.5b")
    with pytest.raises(NotFound, match="not on this machine"):
        catalog.load_base("meta-llama/Meta-Llama-3-8B")
    with pytest.raises(NotFound, match="no base model called"):
        catalog.load_base("gpt2")


def test_unbuilt_standin_says_how_to_build_it(hub_home: Path) -> None:
    with pytest.raises(NotFound, match="hubkit catalog build"):
        catalog.load_base("mistral-standin")


def _tokenizer_with(template: str | None, *, pad_is_eos: bool = False):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel({"<eos>": 0, "<pad>": 1, "[UNK]": 2}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token="<eos>", pad_token="<eos>" if pad_is_eos else "<pad>",
        chat_template=template,
    )


def test_check_chat_template_fires_on_each_problem() -> None:
    good = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{{ eos_token }}\n{% endfor %}"
    assert catalog.check_chat_template(_tokenizer_with(good)) == []
    no_eos = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    assert any("EOS" in w for w in catalog.check_chat_template(_tokenizer_with(no_eos)))
    assert any("no chat template" in w for w in catalog.check_chat_template(_tokenizer_with(None)))
    assert any("padding token is the EOS" in w for w in catalog.check_chat_template(_tokenizer_with(good, pad_is_eos=True)))
