"""Evaluation benchmarks, measured side by side in one run.

1. hubkit's ``evaluate_model`` against a direct ``lm_eval.simple_evaluate``
   call on the same model (the llama3 stand-in with a freshly initialised LoRA
   adapter, so it generates like the stand-in itself) and the
   same offline tasks: wall-time ratio (target <= 1.10). The two are run
   alternately, ``--repeats`` times each, and medians compared.
2. Time to evaluate the stand-in on the first k offline domains, k = 1..all:
   it should grow linearly with the tasks scored, with the model loaded once.

Usage: ``.venv/bin/python bench/bench_evaluate.py [--limit N] [--repeats R]`` (default: every item).
Everything lives under ``bench/out/evaluate`` (stand-in build cached there);
code domains are left out (they need HUBKIT_ALLOW_CODE_EXECUTION=1).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / "bench" / "out" / "evaluate"
os.environ["HUBKIT_HOME"] = str(HOME)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["HUBKIT_ALLOW_CODE_EXECUTION"] = "0"
os.environ.pop("HUBKIT_DB_URL", None)
sys.path.insert(0, str(ROOT))

BASE_KEY = "llama3-standin"
DOMAINS = ["math", "general", "reasoning", "translation", "reading"]


def _setup() -> tuple[object, int, Path]:
    """A hub with the llama3 stand-in and one finished run holding a LoRA adapter."""
    import shutil

    from hubkit.archive import open_archive
    from hubkit.catalog import base_model_records, build_standins, standin_path
    from hubkit.config import load_settings
    from hubkit.db import upgrade
    from hubkit.store import LocalStore
    from tests.evaluate.adapters import build_random_adapter

    (HOME / "hubkit.db").unlink(missing_ok=True)
    settings = load_settings()
    upgrade(settings.database_url)
    build_standins(families=["llama3"])
    store = LocalStore(settings.database_url)
    store.ensure_user("bench", role="developer")
    store.upsert_base_model(**next(r for r in base_model_records() if r["key"] == BASE_KEY))
    adapter = HOME / "adapter"
    shutil.rmtree(adapter, ignore_errors=True)
    build_random_adapter(standin_path("llama3"), adapter, random_weights=False)
    run = store.create_run(owner="bench", name="bench", domain="math", base_model=BASE_KEY)
    store.finish_run(run.id, outcome="success", artifacts={"adapter": open_archive().put_dir(adapter)})
    return store, run.id, adapter


def _hubkit(store: object, run_id: int, domains: list[str], limit: int | None) -> tuple[float, float, int]:
    """(wall seconds, process CPU seconds, model loads) of one ``evaluate_model``."""
    from hubkit.evaluate import evaluate_model

    started, cpu = time.perf_counter(), time.process_time()
    report = evaluate_model(store=store, model_id=run_id, domains=domains, limit=limit)  # type: ignore[arg-type]
    assert all(s.status == "scored" for s in report.scores), [(s.task, s.reason) for s in report.scores]
    return time.perf_counter() - started, time.process_time() - cpu, report.model_loads


def _direct(adapter: Path, tasks: list[str], limit: int | None) -> tuple[float, float]:
    """What a user would write: lm-eval with our task folder, model given by name and arguments."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    from hubkit.catalog import standin_path
    from hubkit.evaluate.suites import task_folder

    started, cpu = time.perf_counter(), time.process_time()
    lm_eval.simple_evaluate(
        model="hf", model_args={"pretrained": str(standin_path("llama3")), "peft": str(adapter), "device": "cpu"},
        tasks=tasks, task_manager=TaskManager(include_path=str(task_folder()), include_defaults=False),
        limit=limit, batch_size=16, apply_chat_template=True, fewshot_as_multiturn=True, log_samples=False)
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="items per task (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each side (default 3)")
    parser.add_argument("--growth-limit", type=int, default=50, help="items per task for the growth series (default 50)")
    args = parser.parse_args()

    import torch

    from hubkit.evaluate import DOMAINS as REGISTRY

    torch.set_num_threads(2)
    store, run_id, adapter = _setup()
    tasks = [spec.name for d in DOMAINS for spec in REGISTRY[d].offline]
    _hubkit(store, run_id, DOMAINS, args.limit)  # warm-up: imports, data files, datasets cache
    _direct(adapter, tasks, args.limit)

    ours, theirs = [], []
    for _ in range(args.repeats):
        ours.append(_hubkit(store, run_id, DOMAINS, args.limit)[:2])
        theirs.append(_direct(adapter, tasks, args.limit))
    items = "all items" if args.limit is None else f"limit {args.limit}"
    print(f"## hubkit vs direct lm_eval.simple_evaluate ({len(tasks)} tasks, {items}, "
          f"{args.repeats} alternating runs each)")
    for label, runs in (("hubkit evaluate_model ", ours), ("direct simple_evaluate", theirs)):
        print(f"{label}  wall median {statistics.median(r[0] for r in runs):7.2f} s "
              f"{[round(r[0], 1) for r in runs]}   CPU median {statistics.median(r[1] for r in runs):7.2f} s")
    for i, what in enumerate(("wall-time", "process CPU-time")):
        ratio = statistics.median(r[i] for r in ours) / statistics.median(r[i] for r in theirs)
        print(f"{what} ratio hubkit/direct: {ratio:.3f}  (target <= 1.10)")

    growth = "all items" if args.growth_limit is None else f"limit {args.growth_limit}"
    print(f"\n## growth with the number of domains ({growth}; median of {args.repeats} rounds)")
    print("domains  tasks  seconds  s/task  model loads")
    rounds: dict[int, list[float]] = {k: [] for k in range(1, len(DOMAINS) + 1)}
    loads: dict[int, set[int]] = {k: set() for k in rounds}
    for _ in range(args.repeats):
        for k in rounds:
            seconds, _, n_loads = _hubkit(store, run_id, DOMAINS[:k], args.growth_limit)
            rounds[k].append(seconds)
            loads[k].add(n_loads)
    points = []
    for k, times in rounds.items():
        n_tasks = sum(len(REGISTRY[d].offline) for d in DOMAINS[:k])
        seconds = statistics.median(times)
        points.append((n_tasks, seconds))
        print(f"{k:7d}  {n_tasks:5d}  {seconds:7.2f}  {seconds / n_tasks:6.2f}  {sorted(loads[k])}")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    fitted = [slope * x + intercept for x in xs]
    ss_res = sum((y - f) ** 2 for y, f in zip(ys, fitted, strict=True))
    ss_tot = sum((y - statistics.fmean(ys)) ** 2 for y in ys)
    print(f"linear fit: {slope:.2f} s per task + {intercept:.2f} s fixed (R^2 = {1 - ss_res / ss_tot:.3f})")


if __name__ == "__main__":
    main()
