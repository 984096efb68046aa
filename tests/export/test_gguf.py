"""GGUF exports proven in llama.cpp itself: for each family, a briefly trained stand-in exported at f16
answers 5 chat prompts with the same greedy tokens as transformers, and stops where transformers stops;
the LoRA adapter GGUF applied to the base GGUF gives the same tokens as the merged export."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hubkit.catalog import FAMILIES, load_base
from hubkit.export import export_model
from hubkit.export.api import base_folder
from hubkit.export.gguf import convert_model
from hubkit.store import LocalStore
from tests.export.conftest import train_briefly

pytestmark = pytest.mark.slow

PROMPTS = ["What is 12 + 7?", "Name a river in the world you know.", "Write a function that adds two numbers.",
           "Translate: the red bird", "Is every zel a kor? Answer yes or no."]
NEW_TOKENS = 16


def _hf_greedy(model, tokenizer, prompt: str) -> tuple[list[int], list[int], bool]:  # type: ignore[no-untyped-def]
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=NEW_TOKENS, do_sample=False,
                             eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    new = out[0, len(ids):].tolist()
    stopped = bool(new) and new[-1] == tokenizer.eos_token_id
    return ids, (new[:-1] if stopped else new), stopped


def _llama_greedy(llm, ids: list[int]) -> tuple[list[int], bool]:  # type: ignore[no-untyped-def]
    """Greedy decoding on llama.cpp's own logits, stopping at a token llama.cpp calls end-of-generation."""
    import llama_cpp
    import numpy as np

    llm.reset()
    llm.eval(ids)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    out: list[int] = []
    for _ in range(NEW_TOKENS):
        token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            return out, True
        out.append(token)
        llm.eval([token])
    return out, False


def _llama(path: Path, lora: Path | None = None):  # type: ignore[no-untyped-def]
    from llama_cpp import Llama

    return Llama(model_path=str(path), lora_path=str(lora) if lora else None, n_ctx=512, n_threads=1,
                 n_batch=512, logits_all=True, verbose=False)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_f16_gguf_answers_like_transformers_and_the_adapter_gguf_like_the_merged(
        llama_tools: None, hub: LocalStore, tmp_path: Path, family: str) -> None:
    from peft import PeftModel

    from hubkit.archive import open_archive

    run_id = train_briefly(hub, family)
    merged = export_model(store=hub, model=run_id, viewer="alice", fmt="gguf", quantization="f16", out_dir=tmp_path)
    adapter = export_model(store=hub, model=run_id, viewer="alice", fmt="gguf-adapter", quantization="f16",
                           out_dir=tmp_path)
    base_gguf = convert_model(hf_dir=base_folder(hub.get_base_model(f"{family}-standin")),
                              dest=tmp_path / "base.gguf", quantization="f16", metadata={},
                              pre_tokenizer=FAMILIES[family].tokenizer.gguf_pre)

    model, tokenizer = load_base(f"{family}-standin")
    adapter_dir = open_archive().get_dir(hub.get_run(run_id).artifacts["adapter"], tmp_path / "adapter")
    model = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload().eval()

    llm = _llama(merged.path)
    meta = llm.metadata
    assert meta["tokenizer.chat_template"] == tokenizer.chat_template
    assert int(meta["tokenizer.ggml.eos_token_id"]) == tokenizer.eos_token_id
    if tokenizer.bos_token_id is not None:
        assert int(meta["tokenizer.ggml.bos_token_id"]) == tokenizer.bos_token_id
    assert meta["general.license"] == "apache-2.0"
    with_adapter = _llama(base_gguf, lora=adapter.path)

    agree = stops = 0
    for prompt in PROMPTS:
        ids, hf_tokens, hf_stopped = _hf_greedy(model, tokenizer, prompt)
        text = tokenizer.decode(ids)
        assert llm.tokenize(text.encode(), add_bos=False, special=True) == ids  # the same tokenizer
        cpp_tokens, cpp_stopped = _llama_greedy(llm, ids)
        assert cpp_tokens == hf_tokens, (prompt, tokenizer.decode(cpp_tokens), tokenizer.decode(hf_tokens))
        assert cpp_stopped == hf_stopped
        assert _llama_greedy(with_adapter, ids) == (cpp_tokens, cpp_stopped)
        agree += 1
        stops += hf_stopped
        # The chat path reads the template and stop token from the file itself.
        reply = llm.create_chat_completion([{"role": "user", "content": prompt}], temperature=0.0,
                                           max_tokens=NEW_TOKENS)["choices"][0]
        assert reply["message"]["content"] == tokenizer.decode(hf_tokens, skip_special_tokens=True)
        assert reply["finish_reason"] == ("stop" if hf_stopped else "length")
    assert agree == len(PROMPTS)
