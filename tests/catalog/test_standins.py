"""The built stand-ins: right class, tiny, sane tokenizer and chat markup, learned something, can learn more."""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from hubkit import catalog, microworld
from hubkit.catalog.standin import StandinRecipe, build_standin, read_manifest
from hubkit.catalog.tokenizer import SPM_CORE, SPM_FILE, gguf_pre_tokenizer
from hubkit.cli import main

FAMILIES = list(catalog.FAMILIES)
TINY = StandinRecipe(
    vocab_size=400, hidden_size=32, num_layers=1, intermediate_size=64, seq_len=32, batch_size=4,
    steps=3, warmup_steps=1, time_budget_s=600, corpus_per_domain=3, chat_docs_per_domain=1,
)


def _held_out_texts(n: int = 6) -> list[str]:
    return [
        microworld.api.render_text(domain, item)
        for domain in microworld.DOMAINS
        for item in microworld.items(domain, split="eval", n=n)
    ]


@torch.no_grad()
def _mean_loss(model, tokenizer, texts: list[str]) -> float:
    losses = []
    for text in texts:
        ids = tokenizer(text + tokenizer.eos_token, return_tensors="pt", add_special_tokens=False)["input_ids"]
        losses.append(model(input_ids=ids, labels=ids).loss.item())
    return sum(losses) / len(losses)


@pytest.mark.parametrize("family", FAMILIES)
def test_standin_has_the_family_class_and_is_tiny(standin_env: Path, family: str) -> None:
    model, tokenizer = catalog.load_base(f"{family}-standin")
    assert type(model).__name__ == catalog.get_family(family).architecture
    assert sum(p.numel() for p in model.parameters()) < 10_000_000
    assert (standin_env / "models" / "standins" / family / "model.safetensors").is_file()
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    assert set(catalog.get_family(family).lora_targets_all) <= names
    manifest = read_manifest(catalog.standin_path(family))
    assert manifest["recipe_version"] == catalog.RECIPE_VERSION


@pytest.mark.parametrize("family", FAMILIES)
def test_tokenizer_round_trips_and_ends_turns_with_eos(standin_env: Path, family: str) -> None:
    _, tokenizer = catalog.load_base(f"{family}-standin")
    assert 256 < len(tokenizer) <= 2048
    for text in _held_out_texts(2) + ["Ünïcode ✓ and\ttabs  ", "def f(x):\n    return x"]:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == text
    assert catalog.check_chat_template(tokenizer) == []
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    messages = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
                {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}]
    rendered = tokenizer.apply_chat_template(messages, tokenize=False)
    assert rendered.count(tokenizer.eos_token) >= 2
    for answer in ("A1", "A2"):
        assert rendered.split(answer, 1)[1].startswith(tokenizer.eos_token)


@pytest.mark.parametrize("family", FAMILIES)
def test_tokenizer_is_laid_out_like_the_familys(standin_env: Path, family: str) -> None:
    """What llama.cpp's converter reads: the family's split regex, or its SentencePiece model (which
    transformers' tokenizer follows token for token), the chat tokens where the family puts them,
    BOS where the family adds it."""
    import sentencepiece as spm

    layout, chat = catalog.get_family(family).tokenizer, catalog.get_family(family).chat
    folder = catalog.standin_path(family)
    _, tokenizer = catalog.load_base(f"{family}-standin")
    texts = _held_out_texts(2) + ["Ünïcode ✓ and\ttabs  ", " leading space", "def f(x):\n    return x"]
    assert (tokenizer("Hi")["input_ids"][0] == tokenizer.bos_token_id) == layout.add_bos
    assert gguf_pre_tokenizer(tokenizer) == layout.gguf_pre
    if layout.kind == "byte_bpe":
        assert not (folder / SPM_FILE).exists()
        state = json.loads(tokenizer.backend_tokenizer.pre_tokenizer.__getstate__())
        assert [p["pattern"]["Regex"] for p in state["pretokenizers"] if p["type"] == "Split"] == [layout.split]
        assert (type(tokenizer.backend_tokenizer.normalizer).__name__ == "NFC") == layout.nfc
        assert json.loads(tokenizer.backend_tokenizer.to_str())["model"]["ignore_merges"] == layout.ignore_merges
        return
    model = spm.SentencePieceProcessor(model_file=str(folder / SPM_FILE))
    for text in texts:
        assert tokenizer(text, add_special_tokens=False)["input_ids"] == model.encode(text), text
    own = tokenizer.convert_tokens_to_ids([t for t in chat.special_tokens if t not in SPM_CORE])
    if layout.added_specials:
        assert sorted(own) == list(range(model.vocab_size(), len(tokenizer)))
    else:
        assert len(tokenizer) == model.vocab_size() and all(model.is_control(i) for i in own)


@pytest.mark.parametrize("family", [f for f in FAMILIES if catalog.get_family(f).tokenizer.rstrip])
def test_turn_tokens_swallow_the_whitespace_after_them_where_the_familys_do(standin_env: Path, family: str) -> None:
    layout, chat = catalog.get_family(family).tokenizer, catalog.get_family(family).chat
    _, tokenizer = catalog.load_base(f"{family}-standin")

    def ids(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    for token in layout.rstrip:
        assert ids(f"{token}\nHi there") == ids(f"{token}Hi there"), token
    assert chat.pad not in layout.rstrip and ids(f"{chat.pad}\nHi") != ids(f"{chat.pad}Hi")


def test_a_sentencepiece_vocabulary_too_small_for_the_corpus_is_refused_in_a_sentence(tmp_path: Path) -> None:
    from hubkit.catalog.tokenizer import train_tokenizer
    from hubkit.errors import ValidationError

    corpus = microworld.pretraining_corpus(seed=0, n_per_domain=3)
    with pytest.raises(ValidationError, match="Phi-3 stand-in's SentencePiece vocabulary needs at least 340 tokens"):
        train_tokenizer(family=catalog.get_family("phi3"), texts=corpus, vocab_size=339, folder=tmp_path / "small")
    tokenizer = train_tokenizer(family=catalog.get_family("phi3"), texts=corpus, vocab_size=340, folder=tmp_path / "ok")
    assert len(tokenizer) == 340


@pytest.mark.parametrize("family", FAMILIES)
def test_pretraining_beats_a_fresh_model_on_held_out_text(standin_env: Path, family: str) -> None:
    model, tokenizer = catalog.load_base(f"{family}-standin")
    torch.manual_seed(123)
    fresh = AutoModelForCausalLM.from_config(model.config).eval()
    texts = _held_out_texts()
    trained_loss, fresh_loss = _mean_loss(model, tokenizer, texts), _mean_loss(fresh, tokenizer, texts)
    assert fresh_loss > math.log(len(tokenizer)) - 0.5  # a fresh model is near uniform
    assert trained_loss < fresh_loss - 1.0


def test_greedy_generation_continues_with_world_words(standin_env: Path) -> None:
    model, tokenizer = catalog.load_base("qwen2.5-standin")
    prompt = tokenizer("The flag of", return_tensors="pt")
    out = model.generate(**prompt, max_new_tokens=12, do_sample=False)
    text = tokenizer.decode(out[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True)
    words = {w.strip(".,") for doc in microworld.pretraining_corpus() for w in doc.split()}
    generated = [w.strip(".,") for w in text.split()]
    assert generated and sum(w in words for w in generated) / len(generated) > 0.5


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for name in ("model.safetensors", "tokenizer.json", "tokenizer.model"):
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def test_same_seed_gives_identical_files_and_rebuilds_are_skipped(tmp_path: Path) -> None:
    a = build_standin("phi3", home=tmp_path / "a", seed=5, recipe=TINY)
    b = build_standin("phi3", home=tmp_path / "b", seed=5, recipe=TINY)
    c = build_standin("phi3", home=tmp_path / "c", seed=6, recipe=TINY)
    assert _digest(a) == _digest(b) != _digest(c)
    events = []
    stamp = (a / "model.safetensors").stat().st_mtime_ns
    build_standin("phi3", home=tmp_path / "a", seed=5, recipe=TINY, progress=events.append)
    assert [e.stage for e in events] == ["skipped"]
    assert (a / "model.safetensors").stat().st_mtime_ns == stamp
    events.clear()
    build_standin("phi3", home=tmp_path / "a", seed=5, recipe=TINY, progress=events.append, force=True)
    assert events[-1].stage == "saved" and _digest(a) == _digest(b)
    assert sorted(p.name for p in a.parent.iterdir() if not p.name.startswith(".build")) == ["phi3"]


def test_lora_on_math_lowers_loss_on_math_eval_items(standin_env: Path) -> None:
    from peft import LoraConfig, get_peft_model

    model, tokenizer = catalog.load_base("llama3-standin")
    family = catalog.get_family("llama3")
    eval_texts = [microworld.api.render_text("math", it) for it in microworld.items("math", split="eval", n=24)]
    before = _mean_loss(model, tokenizer, eval_texts)
    torch.manual_seed(0)
    peft_model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=list(family.lora_targets_all)))
    rows = microworld.example_dataset("math", fmt="text", n=64)
    optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=5e-3)
    peft_model.train()
    for step in range(30):
        batch = [r["text"] + tokenizer.eos_token for r in rows[(step * 4) % 64:(step * 4) % 64 + 4]]
        enc = tokenizer(batch, return_tensors="pt", padding=True, add_special_tokens=False)
        labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
        peft_model(**enc, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    peft_model.eval()
    after = _mean_loss(peft_model, tokenizer, eval_texts)
    assert after < before - 0.2, (before, after)


def test_cli_lists_models_with_standins_labelled(standin_env: Path, capsys) -> None:
    assert main(["catalog", "list"]) == 0
    out = capsys.readouterr().out
    assert "Phi-3 (offline stand-in)" in out and "built" in out
    assert "qwen2.5-7b-instruct" in out and "hubkit catalog pull" in out


def test_cli_build_skips_what_is_built(standin_env: Path, capsys) -> None:
    assert main(["catalog", "build", "--families", "mistral"]) == 0
    assert str(catalog.standin_path("mistral")) in capsys.readouterr().out
