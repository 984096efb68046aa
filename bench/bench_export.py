"""Export benchmark: llama.cpp against transformers on the stand-ins, side by side in one run.

Per stand-in: export time and file size at f16, q8_0 and q4_k_m (llama.cpp's
converter and quantizer); greedy token agreement of each quantization with
transformers over chat prompts; perplexity on held-out micro-world text in
transformers (f32) and in llama.cpp at each quantization; and generation speed
on the CPU, one thread each, in tokens/s, as a ratio.

    .venv/bin/python bench/bench_export.py [--families llama3 qwen2.5] [--tokens 64]
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

PROMPTS = ["What is 12 + 7?", "Name a river in the world you know.", "Write a function that adds two numbers.",
           "Translate: the red bird", "Is every zel a kor? Answer yes or no."]


def hf_greedy(model, tokenizer, ids: list[int], n: int) -> tuple[list[int], float]:  # type: ignore[no-untyped-def]
    """Greedy tokens without stopping (a fixed amount of work) and the seconds they took."""
    started = time.perf_counter()
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=n, min_new_tokens=n, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id)
    return out[0, len(ids):].tolist(), time.perf_counter() - started


def cpp_greedy(llm, ids: list[int], n: int, stops: list[int]) -> tuple[list[int], float]:  # type: ignore[no-untyped-def]
    """The same fixed amount of work: the stop tokens are masked, as ``min_new_tokens`` masks them."""
    started = time.perf_counter()
    llm.reset()
    llm.eval(ids)
    out = []
    for _ in range(n):
        logits = np.array(llm.scores[llm.n_tokens - 1])
        logits[stops] = -np.inf
        token = int(np.argmax(logits))
        out.append(token)
        llm.eval([token])
    return out, time.perf_counter() - started


def hf_perplexity(model, ids: list[int]) -> float:  # type: ignore[no-untyped-def]
    with torch.no_grad():
        return math.exp(model(torch.tensor([ids]), labels=torch.tensor([ids])).loss.item())


def cpp_perplexity(llm, ids: list[int]) -> float:  # type: ignore[no-untyped-def]
    llm.reset()
    llm.eval(ids)
    logits = np.asarray(llm.scores[: len(ids)], dtype=np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    nll = -np.mean([logp[i, ids[i + 1]] for i in range(len(ids) - 1)])
    return math.exp(nll)


def main() -> None:
    from llama_cpp import Llama

    from hubkit import microworld
    from hubkit.catalog import FAMILIES, build_standins, load_base
    from hubkit.catalog.standin import standin_path
    from hubkit.catalog.tokenizer import gguf_pre_tokenizer
    from hubkit.export.gguf import QUANTIZATIONS, convert_model
    from hubkit.export.tools import ensure_tools

    parser = argparse.ArgumentParser()
    parser.add_argument("--families", nargs="*", default=list(FAMILIES))
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ensure_tools()
    build_standins(families=args.families)
    held_out = "\n".join(microworld.api.render_text(d, item) for d in microworld.DOMAINS
                         for item in microworld.items(d, split="eval", n=3))
    print(f"{'family':8} {'quant':7} {'export s':>8} {'size KiB':>9} {'agree':>6} {'ppl hf':>8} {'ppl cpp':>8} "
          f"{'hf tok/s':>9} {'cpp tok/s':>9} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for family in args.families:
            model, tokenizer = load_base(f"{family}-standin")
            model.eval()
            text_ids = tokenizer(held_out, add_special_tokens=False)["input_ids"][:480]
            prompts = [tokenizer(tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                                               add_generation_prompt=True),
                                 add_special_tokens=False)["input_ids"] for p in PROMPTS]
            eos = model.generation_config.eos_token_id
            stops = sorted(set(eos if isinstance(eos, list) else [eos]) - {None})
            hf_runs = [hf_greedy(model, tokenizer, ids, args.tokens) for ids in prompts]
            hf_speed = len(prompts) * args.tokens / sum(s for _, s in hf_runs)
            ppl_hf = hf_perplexity(model, text_ids)
            for quant in QUANTIZATIONS:
                dest = Path(tmp) / f"{family}-{quant}.gguf"
                started = time.perf_counter()
                convert_model(hf_dir=standin_path(family), dest=dest, quantization=quant, metadata={},
                              pre_tokenizer=gguf_pre_tokenizer(tokenizer))
                seconds = time.perf_counter() - started
                llm = Llama(model_path=str(dest), n_ctx=1024, n_threads=1, n_batch=512, logits_all=True,
                            verbose=False)
                cpp_runs = [cpp_greedy(llm, ids, args.tokens, stops) for ids in prompts]
                agree = np.mean([np.mean(np.array(c) == np.array(h)) for (c, _), (h, _) in zip(cpp_runs, hf_runs)])
                cpp_speed = len(prompts) * args.tokens / sum(s for _, s in cpp_runs)
                print(f"{family:8} {quant:7} {seconds:8.1f} {dest.stat().st_size / 1024:9.0f} {agree:6.3f} "
                      f"{ppl_hf:8.2f} {cpp_perplexity(llm, text_ids):8.2f} {hf_speed:9.1f} {cpp_speed:9.1f} "
                      f"{cpp_speed / hf_speed:6.2f}", flush=True)
                llm.close()


if __name__ == "__main__":
    main()
