"""``hubkit seed`` and ``hubkit demo``: a platform with real content, then the hub."""
from __future__ import annotations

import argparse
import os
import sys
import time

from tqdm import tqdm

from hubkit.config import load_settings


def _seed(args: argparse.Namespace) -> int:
    from hubkit.seed import EXAMPLES, seed

    started = time.monotonic()
    with tqdm(total=len(EXAMPLES), desc="seeding", unit="model") as bar:
        def progress(text: str) -> None:
            bar.write(text)
            if text.startswith("["):
                bar.update(1)

        report = seed(progress=progress, evaluate=not args.no_eval)
        bar.update(len(report.skipped))
    print(f"Seeded {len(report.trained)} example runs ({len(report.skipped)} already there) "
          f"in {time.monotonic() - started:.0f} s.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    _seed(args)
    settings = load_settings()
    print(f"Run database: {settings.database_url}")
    print("Query it from Python:  import hubkit.research as r; r.runs()")
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "hubkit.cli", "serve", "hub"])
    return 0  # pragma: no cover - execv does not return


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seed", help="train and evaluate the example models (idempotent)")
    p.add_argument("--no-eval", action="store_true", help="skip the evaluations (quicker, emptier pages)")
    p.set_defaults(func=_seed)
    p = sub.add_parser("demo", help="seed the platform, then start the hub on http://127.0.0.1:8000")
    p.add_argument("--no-eval", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=_demo)
