"""Stand-in build time: cold (tokenizer + pretraining), from the shipped copy, and cached.

    flock /tmp/hubkit-heavy.lock .venv/bin/python bench/bench_standins.py [--families llama3 ...]

Cold is ``hubkit catalog build --force`` for each family in a fresh home (what
a maintainer pays when the recipe changes, and what ``make demo`` would pay
without shipped weights); shipped is the first build in a fresh home, which
copies the package's stand-in; cached is a second build there (the recipe and
seed match, nothing happens). All three in one run, side by side.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def main() -> int:
    from hubkit.catalog import FAMILIES
    from hubkit.catalog.standin import build_standin

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    args = parser.parse_args()
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'family':<10} {'cold s':>9} {'shipped s':>10} {'cached s':>9} {'cold/shipped':>13}")
    for family in args.families:
        with tempfile.TemporaryDirectory(prefix="bench-standins-") as tmp:
            timings = []
            for home, force in ((Path(tmp) / "cold", True), (Path(tmp) / "new", False), (Path(tmp) / "new", False)):
                started = time.perf_counter()
                build_standin(family, home=home, force=force)
                timings.append(time.perf_counter() - started)
        cold, shipped, cached = timings
        print(f"{family:<10} {cold:>9.1f} {shipped:>10.3f} {cached:>9.3f} {cold / shipped:>12.0f}x")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
