"""Evaluation benchmarks, measured side by side in one run.

1. The platform's evaluation worker (``hubkit.evaluate.worker``, as automatic
   evaluation runs it: claim the run's request, score it, record the scores
   with the request's ``done``, refresh capability flags) against a direct
   ``lm_eval.simple_evaluate`` call on the same model (the llama3 stand-in with
   a freshly initialised LoRA adapter, so it generates like the stand-in
   itself) and the same offline tasks; with ``--by-hand``, ``evaluate_model``
   (the by-hand entry point) in a second column. ``--rounds`` paired rounds (at least 5): each
   round runs every side back to back, in an order that alternates between
   rounds, and the ratio is taken within the round; the median of the paired
   ratios is the figure (target <= 1.05), wall and process CPU time.
2. Time to evaluate the stand-in on the first k offline domains, k = 1..all:
   it should grow linearly with the tasks scored, with the model loaded once.

Usage: ``.venv/bin/python bench/bench_evaluate.py [--limit N] [--rounds R]`` (default: every item).
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


def _setup() -> tuple[object, int, Path, str]:
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
    adapter_key = open_archive().put_dir(adapter)
    run = store.create_run(owner="bench", name="bench", domain="math", base_model=BASE_KEY)
    store.finish_run(run.id, outcome="success", artifacts={"adapter": adapter_key})
    return store, run.id, adapter, adapter_key


def _worker(store: object, adapter_key: str, domains: list[str], limit: int | None,
            tasks: list[str]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of the platform's worker scoring one newly finished run.

    Finishing the run (outside the timing) queues its request, as training does; the worker then
    claims it, scores it on the automatic suites (the standard tasks are skipped here, their data
    not being on the machine) and records the scores with the request's ``done``.
    """
    from hubkit.evaluate.worker import WorkerOptions, process_next

    run = store.create_run(owner="bench", name="bench", domain="math", base_model=BASE_KEY)  # type: ignore[attr-defined]
    store.finish_run(run.id, outcome="success", artifacts={"adapter": adapter_key})  # type: ignore[attr-defined]
    options = WorkerOptions(domains=tuple(domains), limit=limit)
    started, cpu = time.perf_counter(), time.process_time()
    report = process_next(store, options=options, run_id=run.id)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert report is not None, "the worker found no request to claim"
    scored = sorted(s.task for s in report.scores if s.status == "scored")
    assert scored == sorted(tasks), f"the worker scored {scored}, the direct side {sorted(tasks)}: not comparable"
    return wall, cpu


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


def _paired(args: argparse.Namespace, store: object, run_id: int, adapter: Path, adapter_key: str,
            tasks: list[str]) -> None:
    sides = {
        "worker": lambda: _worker(store, adapter_key, DOMAINS, args.limit, tasks),
        "direct": lambda: _direct(adapter, tasks, args.limit),
    }
    if args.by_hand:
        sides["evaluate_model"] = lambda: _hubkit(store, run_id, DOMAINS, args.limit)[:2]
    # Warm-up: imports, data files, the datasets cache; the worker's first run also scores the base
    # model (the baseline every later run reuses, recorded under this limit's stamp), which the
    # timed rounds then find recorded. The direct side warms up on 5 items a task.
    sides["worker"]()
    _direct(adapter, tasks, 5)
    if args.by_hand:
        _hubkit(store, run_id, DOMAINS, 5)
    items = "all items" if args.limit is None else f"limit {args.limit}"
    print(f"## the platform's worker vs direct lm_eval.simple_evaluate ({len(tasks)} tasks, {items}, "
          f"{args.rounds} paired rounds; load average {os.getloadavg()[0]:.1f} at start)")
    ours = [name for name in sides if name != "direct"]
    print("round  order                             direct s  " + "  ".join(
        f"{name} s  {name}/direct wall (CPU)" for name in ours))
    ratios: dict[str, list[tuple[float, float]]] = {name: [] for name in ours}
    for i in range(args.rounds):
        order = ["worker", "direct", "evaluate_model"] if i % 2 == 0 else ["evaluate_model", "direct", "worker"]
        order = [name for name in order if name in sides]
        got = {name: sides[name]() for name in order}
        d_wall, d_cpu = got["direct"]
        for name, paired in ratios.items():
            paired.append((got[name][0] / d_wall, got[name][1] / d_cpu))
        print(f"{i + 1:5d}  {' > '.join(order):32s}  {d_wall:8.2f}  " + "  ".join(
            f"{got[name][0]:8.2f}  {ratios[name][-1][0]:.3f} ({ratios[name][-1][1]:.3f})" for name in ours),
            flush=True)
    labels = {"worker": "worker (automatic evaluation)", "evaluate_model": "evaluate_model (by hand)"}
    for name, label in ((name, labels[name]) for name in ours):
        wall = statistics.median(r[0] for r in ratios[name])
        cpu = statistics.median(r[1] for r in ratios[name])
        print(f"{label} / direct: median of {args.rounds} paired ratios {wall:.3f} wall, {cpu:.3f} process CPU "
              f"(range {min(r[0] for r in ratios[name]):.3f}-{max(r[0] for r in ratios[name]):.3f} wall)  "
              f"target <= 1.05: {'met' if wall <= 1.05 else 'MISSED'}")
    print(f"load average at the end of the rounds {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="items per task (default: all)")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds (default and minimum 5)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the growth series (default 3)")
    parser.add_argument("--growth-limit", type=int, default=50, help="items per task for the growth series (default 50)")
    parser.add_argument("--no-growth", action="store_true", help="measure only the paired rounds")
    parser.add_argument("--by-hand", action="store_true",
                        help="also time evaluate_model (the by-hand entry point) in each round, in its own column")
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error("at least 5 paired rounds")

    import torch

    from hubkit.evaluate import DOMAINS as REGISTRY

    torch.set_num_threads(2)
    store, run_id, adapter, adapter_key = _setup()
    tasks = [spec.name for d in DOMAINS for spec in REGISTRY[d].offline]
    _paired(args, store, run_id, adapter, adapter_key, tasks)
    if args.no_growth:
        return

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
