"""Exports proven in llama.cpp itself: a trained stand-in, exported as an f16 GGUF, reads five chat
prompts into transformers' own tokens, answers them with transformers' own greedy tokens and stops where
transformers stops; so does its LoRA GGUF applied to the base GGUF in llama.cpp.

f16 weights round differently from transformers' float32, so where transformers' two best tokens are
within NEAR_TIE logits of each other the pick is a coin toss for both runtimes: a difference there ends
the comparison of that prompt. A difference anywhere else, or a stop in one runtime only, fails the test.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from hubkit.export import export_model
from hubkit.export.tools import converter_ready, runtime_ready
from hubkit.store import LocalStore
from hubkit.train import run as train_run
from tests.train.conftest import small_spec

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (runtime_ready() and converter_ready()),
                                 reason="the export extra (llama-cpp-python and its converter) is not installed")]

NEW_TOKENS = 16
NEAR_TIE = 0.05  # logits; f16 rounding of a tiny model moves logits by a few thousandths
PROMPTS = ["What is 12 + 7?", "Name the capital of Zorbia.", "Translate 'good morning' into Zorbian.",
           "Write a Python function that adds two numbers.", "If all blips are blops, is a blip a blop?"]
FAMILIES = ["llama3", "mistral", "phi3", "qwen2.5"]


def _trained(store: LocalStore, family: str) -> int:
    spec = small_spec(base_model=f"{family}-standin", max_steps=6, validation_fraction=0, learning_rate=5e-3)
    result = train_run(spec, store=store, owner="alice")
    assert store.get_run(result.run_id).training_outcome.value == "success"
    return result.run_id


def _merged_in_transformers(store: LocalStore, run_id: int, tmp_path: Path) -> tuple[Any, Any]:
    from peft import PeftModel

    from hubkit.archive import open_archive
    from hubkit.catalog import load_base

    run = store.get_run(run_id)
    model, tokenizer = load_base(store.get_base_model(run.base_model_id).key)
    adapter = open_archive().get_dir(str(run.artifacts["adapter"]), tmp_path / "adapter")
    return PeftModel.from_pretrained(model, str(adapter)).merge_and_unload().eval(), tokenizer


def _prompt_ids(llm: Any, tokenizer: Any, question: str) -> list[int]:
    """The chat prompt's tokens, the same in both runtimes (the file names the family, which llama.cpp's
    tokenizer reads for Phi-3)."""
    text = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                         add_generation_prompt=True)
    ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    assert llm.tokenize(text.encode(), add_bos=False, special=True) == ids, text
    return ids


def _stop_ids(tokenizer: Any, model: Any) -> set[int]:
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    return ids | ({tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set())


def _transformers_greedy(model: Any, ids: list[int], stops: set[int]) -> tuple[list[int], list[float]]:
    """Greedy tokens up to a stop token (included), and at each step the gap between the two best logits."""
    tokens, gaps, context = [], [], torch.tensor([ids])
    with torch.no_grad():
        for _ in range(NEW_TOKENS):
            logits = model(context).logits[0, -1].float()
            top = torch.topk(logits, 2)
            tokens.append(int(top.indices[0]))
            gaps.append(float(top.values[0] - top.values[1]))
            if tokens[-1] in stops:
                break
            context = torch.cat([context, top.indices[:1].view(1, 1)], dim=1)
    return tokens, gaps


def _llama_greedy(llm: Any, ids: list[int], stops: set[int]) -> list[int]:
    """llama.cpp's greedy tokens for the same prompt, up to a stop token (included)."""
    out: list[int] = []
    for token in llm.generate(ids, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0, reset=True):
        out.append(int(token))
        if token in stops or len(out) == NEW_TOKENS:
            break
    return out


def _compared(expected: list[int], gaps: list[float], got: list[int]) -> int:
    """How many tokens were compared: all of them, or up to a difference at a near-tie; fails on a
    difference anywhere else, and when one runtime stops and the other goes on."""
    for step, want in enumerate(expected):
        assert step < len(got), ("llama.cpp stopped early", expected, got)
        if got[step] != want:
            assert gaps[step] < NEAR_TIE, (step, expected, got, gaps)
            return step
    assert got == expected, ("llama.cpp went on where transformers stopped", expected, got)
    return len(expected)


def _answers_like_transformers(llm: Any, model: Any, tokenizer: Any) -> None:
    """Every prompt through both runtimes; enough tokens compared outside near-ties to mean something."""
    stops = _stop_ids(tokenizer, model)
    compared = []
    for question in PROMPTS:
        ids = _prompt_ids(llm, tokenizer, question)
        expected, gaps = _transformers_greedy(model, ids, stops)
        compared.append(_compared(expected, gaps, _llama_greedy(llm, ids, stops)))
    assert sum(compared) >= 2 * len(PROMPTS), f"too few tokens compared outside near-ties: {compared}"


@pytest.mark.parametrize("family", FAMILIES)
def test_f16_gguf_answers_like_transformers_and_stops_where_it_stops(hub: LocalStore, tmp_path: Path,
                                                                      family: str) -> None:
    import llama_cpp

    run_id = _trained(hub, family)
    exported = export_model(store=hub, model=run_id, viewer="alice", fmt="gguf", quantization="f16",
                            out_dir=tmp_path / "out", install=False)
    model, tokenizer = _merged_in_transformers(hub, run_id, tmp_path)
    llm = llama_cpp.Llama(str(exported.path), n_ctx=512, n_threads=1, verbose=False)
    _answers_like_transformers(llm, model, tokenizer)


def test_lora_gguf_on_the_base_gguf_answers_like_the_merged_model(hub: LocalStore, tmp_path: Path) -> None:
    import llama_cpp

    run_id = _trained(hub, "llama3")
    bundle = export_model(store=hub, model=run_id, viewer="alice", fmt="ollama-adapter", quantization="f16",
                          out_dir=tmp_path / "bundle", install=False)
    model, tokenizer = _merged_in_transformers(hub, run_id, tmp_path)
    adapted = llama_cpp.Llama(str(bundle.path / "base.gguf"), lora_path=str(bundle.path / "adapter.gguf"),
                              n_ctx=512, n_threads=1, verbose=False)
    _answers_like_transformers(adapted, model, tokenizer)
