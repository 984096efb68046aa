"""Training benchmarks, measured side by side in one run (figures go to docs/benchmarks.md "## Training").

1. Recording overhead: ``hubkit.train.run`` (points streamed to the store, raw-loss
   divergence check, checkpoints archived) against a plain ``Trainer`` + PEFT on the
   same stand-in, data, arguments and seed, in alternating order. Throughput ratio
   (target >= 0.95) as the median of the per-round ratios, by wall clock and by
   process CPU time (the fairer figure on a shared machine; it includes the
   background thread that writes points), and the largest difference between the
   two loss curves (target 0).
2. Packing: the same skewed-length data (mostly short rows, a few long ones) with
   and without packing; real (non-padding) tokens per second (target >= 1.5x).
3. Memory: the peak resident memory a run adds, next to the pre-flight estimate.

    .venv/bin/python bench/bench_train.py [--steps 60] [--rounds 5] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import psutil
import torch

BASE = "llama3-standin"


def set_up(home: Path) -> Any:
    """A fresh hub in ``home`` whose stand-ins come from the shared test cache (built if missing)."""
    os.environ["HUBKIT_HOME"] = str(home)
    from hubkit.catalog import RECIPE_VERSION, base_model_records, build_standins
    from hubkit.config import load_settings
    from hubkit.db import upgrade
    from hubkit.store import LocalStore

    cache = REPO / ".hubkit-test-cache" / f"standins-v{RECIPE_VERSION}"
    build_standins(home=cache, families=["llama3"])
    (home / "models").mkdir(parents=True, exist_ok=True)
    (home / "models" / "standins").symlink_to(cache / "models" / "standins", target_is_directory=True)
    settings = load_settings()
    upgrade(settings.database_url)
    store = LocalStore(settings.database_url)
    store.ensure_user("bench", role="developer")
    for row in base_model_records():
        store.upsert_base_model(**row)
    return store


def spec_for(steps: int, **changes: Any) -> Any:
    from hubkit.train import TrainSpec

    return TrainSpec.parse({
        "base_model": BASE, "domain": "math", "dataset": {"example": "math", "example_rows": 400},
        "max_steps": steps, "batch_size": 8, "max_seq_len": 128, "lora_r": 8, "lora_alpha": 16,
        "learning_rate": 2e-3, "warmup_ratio": 0.0, "lr_scheduler": "cosine", "validation_fraction": 0,
        "checkpoint_interval": steps, "logging_steps": 1, "seed": 0, **changes})


def plain_run(spec: Any, out: Path) -> tuple[float, float, int, list[float]]:
    """The same training with nothing but Trainer + PEFT: (seconds, CPU seconds, real tokens, losses)."""
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments, set_seed

    from hubkit.catalog import get_family, load_base
    from hubkit.data import tokenize_for_causal_lm
    from hubkit.train.inputs import prepare

    model, tokenizer = load_base(BASE)
    set_seed(spec.seed)
    model = get_peft_model(model, LoraConfig(r=spec.lora_r, lora_alpha=spec.lora_alpha,
                                             lora_dropout=spec.lora_dropout,
                                             target_modules=list(get_family("llama3").lora_targets),
                                             task_type="CAUSAL_LM"))
    prepared = prepare(spec.dataset, seed=spec.seed)
    split = prepared.train_validation_split(validation_fraction=0, seed=spec.seed)
    data = tokenize_for_causal_lm(dataset=split.train, fmt=prepared.format, tokenizer=tokenizer,
                                  max_seq_len=spec.max_seq_len).dataset
    args = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=spec.batch_size, max_steps=spec.max_steps,
        learning_rate=spec.learning_rate, lr_scheduler_type=spec.lr_scheduler, warmup_steps=0,
        weight_decay=spec.weight_decay, max_grad_norm=spec.max_grad_norm, optim=spec.optimizer,
        seed=spec.seed, data_seed=spec.seed, logging_steps=1, logging_first_step=True,
        save_strategy="steps", save_steps=spec.checkpoint_interval, report_to=[], disable_tqdm=True,
        use_cpu=True, remove_unused_columns=False, dataloader_pin_memory=False)
    tokens = {"n": 0}

    class Count(Trainer):
        def training_step(self, model: Any, inputs: Any, num_items_in_batch: Any = None) -> Any:
            tokens["n"] += int(inputs["attention_mask"].sum())
            return super().training_step(model, inputs, num_items_in_batch)

    trainer = Count(model=model, args=args, train_dataset=data,
                    data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100))
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    start, cpu = time.monotonic(), time.process_time()
    trainer.train()
    seconds, cpu = time.monotonic() - start, time.process_time() - cpu
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return seconds, cpu, tokens["n"], losses


class LoopClock:
    """Process CPU time between the runner's "Training" status and the next one (the loop)."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.cpu = 0.0

    def on_step(self, step: int, total: int, point: dict) -> None:
        pass

    def on_status(self, text: str) -> None:
        if text == "Training":
            self.start = time.process_time()
        elif self.start is not None:
            self.cpu, self.start = time.process_time() - self.start, None


def hubkit_run(spec: Any, store: Any) -> tuple[float, float, int, list[float]]:
    """(loop seconds, loop CPU seconds, real tokens, losses as recorded in the store)."""
    from hubkit.train import run

    clock = LoopClock()
    result = run(spec, store=store, owner="bench", progress=clock)
    if result.outcome != "success":
        raise SystemExit(f"benchmark run failed: {result.message}")
    losses = [p["loss"] for p in store.loss_points(result.run_id) if p.get("loss") is not None]
    return result.train_seconds, clock.cpu, result.train_tokens, losses


def overhead(store: Any, *, steps: int, rounds: int, work: Path) -> dict[str, Any]:
    spec = spec_for(steps)
    wall: list[float] = []
    cpu: list[float] = []
    max_diff = 0.0
    for r in range(rounds):
        order = ("hubkit", "plain") if r % 2 == 0 else ("plain", "hubkit")
        results: dict[str, tuple[float, float, int, list[float]]] = {}
        for which in order:
            results[which] = hubkit_run(spec, store) if which == "hubkit" else plain_run(spec, work / f"plain-{r}")
        (hs, hc, ht, hl), (ps, pc, pt, pl) = results["hubkit"], results["plain"]
        if ht != pt or len(hl) != len(pl):
            raise SystemExit(f"the two runs saw different data: {ht} vs {pt} tokens, {len(hl)} vs {len(pl)} points")
        max_diff = max(max_diff, max(abs(a - b) for a, b in zip(hl, pl)))
        wall.append(ps / hs)  # tokens are equal, so the throughput ratio is the time ratio
        cpu.append(pc / hc)
        print(f"  round {r + 1}: hubkit {ht / hs:,.0f} tok/s ({hc:.2f} CPU s), plain {pt / ps:,.0f} tok/s "
              f"({pc:.2f} CPU s); ratio wall {wall[-1]:.3f}, CPU {cpu[-1]:.3f}", flush=True)
    return {"wall": statistics.median(wall), "cpu": statistics.median(cpu), "wall_range": (min(wall), max(wall)),
            "max_loss_diff": max_diff, "points": steps}


def skewed_rows(n: int, *, seed: int) -> list[dict[str, str]]:
    """Mostly short math rows; one row in ten is a long passage (several reading texts joined)."""
    import random

    from hubkit.microworld import example_dataset

    short = [r["text"] for r in example_dataset("math", fmt="text", n=n, seed=seed)]
    reading = [r["text"] for r in example_dataset("reading", fmt="text", n=n, seed=seed)]
    rng = random.Random(seed)
    rows = []
    for i, text in enumerate(short):
        if i % 10 == 0:
            text = "\n\n".join(rng.sample(reading, 6))
        rows.append({"text": text})
    return rows


def packing(store: Any, *, steps: int, rounds: int, work: Path) -> dict[str, Any]:
    import json

    data = work / "skewed.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in skewed_rows(400, seed=1)))
    runs: dict[bool, list[float]] = {True: [], False: []}
    for r in range(rounds):
        for packed in ((True, False) if r % 2 == 0 else (False, True)):
            spec = spec_for(steps, packing=packed, max_seq_len=256, dataset={"path": str(data), "format": "text"})
            seconds, _, tokens, _ = hubkit_run(spec, store)
            runs[packed].append(tokens / seconds)
        print(f"  round {r + 1}: packed {runs[True][-1]:,.0f} tok/s, padded {runs[False][-1]:,.0f} tok/s",
              flush=True)
    ratios = [a / b for a, b in zip(runs[True], runs[False])]
    return {"packed": statistics.median(runs[True]), "padded": statistics.median(runs[False]),
            "ratio": statistics.median(ratios), "range": (min(ratios), max(ratios))}


def memory(store: Any, *, steps: int) -> dict[str, Any]:
    from hubkit.train import preflight

    spec = spec_for(steps, batch_size=16, max_seq_len=256, packing=True)
    report = preflight(spec, measure=False)
    process = psutil.Process()
    base = process.memory_info().rss
    peak = {"rss": base}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak["rss"] = max(peak["rss"], process.memory_info().rss)
            time.sleep(0.01)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    hubkit_run(spec, store)
    done.set()
    watcher.join()
    return {"added_rss": peak["rss"] - base, "peak_rss": peak["rss"], "estimate": report.estimated_peak_memory,
            "parameters": report.parameters, "trainable": report.trainable_parameters}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="hubkit-bench-train-") as tmp:
        work = Path(tmp)
        store = set_up(work / "home")
        print(f"torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs, {args.steps} steps, "
              f"{args.rounds} rounds", flush=True)
        print("1. recording overhead: hubkit.train.run vs plain Trainer + PEFT", flush=True)
        o = overhead(store, steps=args.steps, rounds=args.rounds, work=work)
        print("2. packing vs padding on skewed lengths", flush=True)
        p = packing(store, steps=args.steps, rounds=args.rounds, work=work)
        print("3. peak memory of a run", flush=True)
        m = memory(store, steps=args.steps)
        mib = 1 << 20
        print("\n| measure | value | target |\n|---|---|---|")
        print(f"| throughput hubkit / plain Trainer+PEFT, wall clock (median of {args.rounds} paired rounds) | "
              f"{o['wall']:.3f} (rounds {o['wall_range'][0]:.3f} to {o['wall_range'][1]:.3f}) | >= 0.95 |")
        print(f"| the same by process CPU time (includes the point-writing thread) | {o['cpu']:.3f} | >= 0.95 |")
        print(f"| largest loss difference over {o['points']} logged steps | {o['max_loss_diff']:.3g} | 0 (identical) |")
        print(f"| packing / no packing, real tokens per second (median of {args.rounds} paired rounds) | "
              f"{p['ratio']:.2f}x (rounds {p['range'][0]:.2f}x to {p['range'][1]:.2f}x; medians {p['packed']:,.0f} "
              f"vs {p['padded']:,.0f}) | >= 1.5x |")
        print(f"| peak resident memory added by a run (batch 16 x 256 tokens) | {m['added_rss'] / mib:.0f} MiB "
              f"(process peak {m['peak_rss'] / mib:.0f} MiB) | reported |")
        print(f"| pre-flight estimate for the same run | {m['estimate'] / mib:.0f} MiB "
              f"({m['parameters']:,} parameters, {m['trainable']:,} trainable) | reported |")


if __name__ == "__main__":
    main()
