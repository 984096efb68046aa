"""Stand-ins: base against LoRA fine-tune, per micro-world domain, with standard errors.

Builds (or takes the shipped) stand-in of a family, scores it on the four multiple-choice
tasks the way lm-eval does with the chat template (log-likelihood of each choice's text after
the assistant's opening) and on exact-match math (greedy answer, the number after ``####``),
then fine-tunes a LoRA adapter per domain with the seeded settings (hubkit.seed) and scores
it again in its own domain. Usage:

    PYTHONPATH=. .venv/bin/python bench/bench_standin_skills.py --family llama3 [--home DIR] [--rows N]
"""
from __future__ import annotations

import argparse
import json
import math
import re
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

MC = ("math_choice", "general", "reading", "reasoning")
N_EVAL = {"math_choice": 300, "general": 80, "reading": 150, "reasoning": 150, "math": 100}


def mc_rows(task: str) -> list[dict]:
    from hubkit.evaluate.sources import MicroworldMathChoices
    from hubkit.microworld import items
    from hubkit.microworld._common import mc_prompt

    if task == "math_choice":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.jsonl"
            MicroworldMathChoices(N_EVAL[task]).write(path)
            rows = [json.loads(line) for line in path.read_text().splitlines()]
        return [{"prompt": f"Question: {r['question']}\nAnswer:", "choices": r["choices"], "answer": r["answer"]}
                for r in rows]
    out = []
    for it in items(task, split="eval", n=N_EVAL[task]):
        question = f"{it['passage']}\nQuestion: {it['question']}" if task == "reading" else it["question"]
        out.append({"prompt": mc_prompt(question, it["choices"]), "choices": it["choices"], "answer": it["answer"]})
    return out


def _context(tokenizer, prompt: str) -> str:
    return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)


@torch.no_grad()
def mc_accuracy(model, tokenizer, rows: list[dict]) -> tuple[float, float]:
    correct = 0
    for row in rows:
        ctx = _context(tokenizer, row["prompt"])
        ctx_ids = tokenizer(ctx, add_special_tokens=False)["input_ids"]
        seqs = [tokenizer(ctx + c, add_special_tokens=False)["input_ids"] for c in row["choices"]]
        width = max(map(len, seqs))
        batch = torch.tensor([s + [0] * (width - len(s)) for s in seqs])
        logp = torch.log_softmax(model(input_ids=batch).logits.float(), -1)
        scores = []
        for i, s in enumerate(seqs):
            cont = torch.tensor(s[len(ctx_ids):])
            pos = torch.arange(len(ctx_ids) - 1, len(s) - 1)
            scores.append(logp[i, pos, cont].sum().item())
        correct += int(max(range(4), key=lambda k: scores[k]) == row["answer"])
    p = correct / len(rows)
    return p, math.sqrt(p * (1 - p) / (len(rows) - 1))


@torch.no_grad()
def math_exact(model, tokenizer, n: int) -> tuple[float, float]:
    from hubkit.microworld import items
    from hubkit.microworld.math_problems import final_answer

    hits = 0
    evaluated = items("math", split="eval", n=n)
    for it in evaluated:
        ids = tokenizer(_context(tokenizer, f"Question: {it['question']}\nAnswer:"), add_special_tokens=False,
                        return_tensors="pt")["input_ids"]
        out = model.generate(input_ids=ids, max_new_tokens=96, do_sample=False,
                             eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
        text = tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True).split("\n\n")[0]
        found = re.search(r"#### (\-?[0-9\.\,]+)", text)
        hits += int(bool(found) and found[1].replace(",", "").rstrip(".") == str(final_answer(it)))
    p = hits / len(evaluated)
    return p, math.sqrt(p * (1 - p) / (len(evaluated) - 1))


def scores(model, tokenizer, tasks) -> dict[str, tuple[float, float]]:
    model.eval()
    out = {}
    for task in tasks:
        out[task] = math_exact(model, tokenizer, N_EVAL["math"]) if task == "math" else \
            mc_accuracy(model, tokenizer, mc_rows(task))
    return out


def finetune(path: Path, family: str, domain: str, *, settings: dict, rows: int, seed: int = 42):
    """A LoRA adapter trained like the trainer does: chat-rendered rows, prompt masked, cosine schedule."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from hubkit.catalog import FAMILIES
    from hubkit.data.render import render_parts
    from hubkit.microworld import example_dataset

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    data = example_dataset(domain, fmt="instruction", n=rows, seed=seed)
    data = data[: len(data) - max(1, round(len(data) * settings["validation_fraction"]))]
    examples = []
    for row in data:
        rendered = render_parts(row, tokenizer=tokenizer, fmt="instruction")
        enc = tokenizer(rendered.text, add_special_tokens=False, return_offsets_mapping=True)
        labels = [t if any(a <= s < b for a, b in rendered.train_spans) else -100
                  for t, (s, _) in zip(enc["input_ids"], enc["offset_mapping"])]
        n = settings["max_seq_len"]
        examples.append((enc["input_ids"][:n], labels[:n]))
    torch.manual_seed(seed)
    model = get_peft_model(model, LoraConfig(r=settings["lora_r"], lora_alpha=settings["lora_alpha"],
                                             lora_dropout=0.05,
                                             target_modules=list(FAMILIES[family].lora_targets
                                                                 + (FAMILIES[family].lora_targets_mlp
                                                                    if settings.get("target_mlp") else ())),
                                             task_type="CAUSAL_LM"))
    bs, epochs = settings["batch_size"], settings["num_epochs"]
    total = math.ceil(len(examples) / bs) * epochs
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=settings["learning_rate"],
                            weight_decay=0.0)
    warm = max(1, math.ceil(0.03 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total - warm))))
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(examples), generator=gen).tolist()
        for i in range(0, len(order), bs):
            chunk = [examples[j] for j in order[i:i + bs]]
            width = max(len(ids) for ids, _ in chunk)
            ids = torch.tensor([x + [tokenizer.pad_token_id] * (width - len(x)) for x, _ in chunk])
            lab = torch.tensor([y + [-100] * (width - len(y)) for _, y in chunk])
            att = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in chunk])
            loss = model(input_ids=ids, attention_mask=att, labels=lab).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step(), sched.step(), opt.zero_grad()
    model.eval()
    return model, tokenizer


def main() -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from hubkit.catalog.standin import DEFAULT_RECIPE, build_standin
    from hubkit.seed import EXAMPLES

    parser = argparse.ArgumentParser()
    parser.add_argument("--family", default="llama3")
    parser.add_argument("--home", type=Path, default=None, help="build here with --force (default: shipped)")
    parser.add_argument("--recipe", default="{}", help="JSON overrides of StandinRecipe fields")
    parser.add_argument("--domains", default="math,general,reading,reasoning")
    parser.add_argument("--path", type=Path, default=None, help="score this stand-in folder instead")
    parser.add_argument("--rows", type=int, default=240, help="fine-tuning rows (the seeded examples use 240)")
    parser.add_argument("--finetune", default="{}", help="JSON overrides of the seeded LoRA settings")
    args = parser.parse_args()
    torch.set_num_threads(1)
    recipe = replace(DEFAULT_RECIPE, **json.loads(args.recipe))
    started = time.perf_counter()
    if args.path:
        path = args.path
    elif args.home:
        path = build_standin(args.family, home=args.home, recipe=recipe, force=True)
    else:
        path = build_standin(args.family, home=Path(tempfile.mkdtemp()))
    built = time.perf_counter() - started
    print(f"{args.family}: ready in {built:.0f} s ({path})", flush=True)
    model, tokenizer = AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    base = scores(model, tokenizer, ("math", *MC))
    print("base " + "  ".join(f"{k} {v:.3f}±{e:.3f}" for k, (v, e) in base.items()), flush=True)
    steady = {**next(e for e in EXAMPLES if e.key == "sums").settings, **json.loads(args.finetune)}
    for domain in filter(None, args.domains.split(",")):
        t = time.perf_counter()
        tuned, tok = finetune(path, args.family, domain, settings=steady, rows=args.rows)
        own = ("math", "math_choice") if domain == "math" else (domain,)
        after = scores(tuned, tok, own)
        print(f"tuned {domain} ({time.perf_counter() - t:.0f} s): " + "  ".join(
            f"{k} {base[k][0]:.3f}±{base[k][1]:.3f} -> {v:.3f}±{e:.3f}" for k, (v, e) in after.items()), flush=True)


if __name__ == "__main__":
    main()
