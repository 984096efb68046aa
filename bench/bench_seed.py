"""Seeding benchmark: a full ``hubkit seed`` into a fresh HUBKIT_HOME, timed step by step.

    flock /tmp/hubkit-heavy.lock .venv/bin/python bench/bench_seed.py [--examples k1,k2] [--keep DIR]
        [--reuse-standins DIR]

Everything runs from nothing, exactly as ``make demo`` on a fresh machine:
database, the four stand-ins (tokenizer + pretraining), then each example's
training and evaluation, the base-model baselines and the detection of
capability flags. Prints wall-clock seconds per step, the total (target:
under 15 minutes on the 2-core machine), the load average before and after,
and the capability flags that arose. ``--reuse-standins`` links already built
stand-ins in (to time the examples alone).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TARGET_S = 15 * 60


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", help="comma-separated example keys (default: all)")
    parser.add_argument("--keep", type=Path, help="seed into this folder and keep it (default: a temporary one)")
    parser.add_argument("--reuse-standins", type=Path, help="a HUBKIT_HOME whose models/standins are linked in")
    args = parser.parse_args()

    home = args.keep or Path(tempfile.mkdtemp(prefix="hubkit-seed-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    if args.reuse_standins:
        (home / "models").mkdir(exist_ok=True)
        (home / "models" / "standins").symlink_to((args.reuse_standins / "models" / "standins").resolve(),
                                                  target_is_directory=True)
    os.environ["HUBKIT_HOME"] = str(home)
    os.environ.pop("HUBKIT_DB_URL", None)

    from hubkit.seed import EXAMPLES, seed
    from hubkit.store import open_store

    chosen = EXAMPLES
    if args.examples:
        keys = args.examples.split(",")
        chosen = tuple(e for e in EXAMPLES if e.key in keys)
    print(f"HUBKIT_HOME={home}; {len(chosen)} examples; load average before: {_load()}", flush=True)
    started = time.perf_counter()
    cpu = time.process_time()
    report = seed(examples=chosen, progress=lambda text: print(f"  {time.perf_counter() - started:6.0f} s  {text}",
                                                                flush=True))
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu

    by_step: dict[str, float] = defaultdict(float)
    print("\nstep                              seconds")
    for key, step, seconds in report.timings:
        by_step[step] += seconds
        print(f"  {key:<16} {step:<14} {seconds:8.1f}")
    print()
    for step, seconds in by_step.items():
        print(f"  all {step:<26} {seconds:8.1f}")
    print(f"  total (wall)                   {total:8.1f}   target <= {TARGET_S}")
    print(f"  process CPU                    {cpu:8.1f}")
    print(f"load average after: {_load()}")

    store = open_store()
    outcomes = {k: store.get_run(r).training_outcome.value for k, r in report.runs.items()}
    print("outcomes:", ", ".join(f"{k}={v}" for k, v in outcomes.items()))
    flags = 0
    for key, run_id in report.runs.items():
        for flag in store.list_capability_flags(run_id):
            flags += 1
            print(f"flag  {key}: {flag.sentence} (q = {flag.q_value:.4f})")
    print(f"{flags} capability flags")
    return 0 if total <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
