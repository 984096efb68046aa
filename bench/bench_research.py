"""Research benchmark at 100,000 synthetic runs on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_research.py [--runs 100000] [--skip sqlite|postgresql]

Times the failure-museum summary, the genealogy of a deep fork chain (500
generations) and emergent-capability detection over every model (target: under
a minute), each on both backends. Wall-clock and process CPU seconds are both
printed: CPU time is the fairer figure on a shared machine.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_store import pg_schema
from synthetic_runs import populate

from hubkit import research
from hubkit.research import emergence, genealogy, museum
from hubkit.store import LocalStore


def clock(label: str, fn: Callable[[], object]) -> object:
    w, c = time.perf_counter(), time.process_time()
    result = fn()
    print(f"  {label}: {time.perf_counter() - w:.2f} s wall, {time.process_time() - c:.2f} s CPU", flush=True)
    return result


def run_backend(name: str, url: str, n_runs: int) -> None:
    t = time.perf_counter()
    data = populate(url, n_runs)
    print(f"[{name}] loaded {data.n_runs:,} runs, {data.n_evaluations:,} evaluations in "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    frame = clock("research.runs()", lambda: research.runs(url=url))
    cells = clock("museum: failure-rate boundary (lr x rank x family x size)", lambda: museum.boundary(runs=frame))
    summary = clock("museum: exhibits (no curves) + summary sentences",
                    lambda: museum.summarise(url=url, runs=frame))
    shown = clock("museum: exhibits with curve shapes", lambda: museum.exhibits(url=url, runs=frame))
    print(f"  -> {summary.exhibits:,} exhibits of {summary.finished:,} finished runs, {len(cells):,} boundary cells, "
          f"{len(shown):,} curves shaped; {summary.sentences[1] if len(summary.sentences) > 1 else ''}")
    graph = clock("genealogy: build the whole graph with capability changes",
                  lambda: genealogy.build_graph(url=url))
    clock("genealogy: acyclic check", lambda: genealogy.check_acyclic(graph))
    deepest, root = data.deep_chain[-1], data.deep_chain[0]
    chain = clock(f"genealogy: chain of model {deepest} back to its base",
                  lambda: genealogy.model_chain(graph, deepest))
    found = clock("genealogy: datasets that contributed to it",
                  lambda: genealogy.contributing_datasets(graph, deepest))
    below = clock(f"genealogy: descendants of chain root {root}",
                  lambda: genealogy.descendants(graph, genealogy.model_node(root), kind="model"))
    print(f"  -> {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges; chain depth {len(chain)}, "
          f"{len(found)} contributing datasets, {len(below):,} descendants")
    store = LocalStore(url)
    w = time.perf_counter()
    report = clock("detection over all models (compute + store flags)", lambda: emergence.detect_all(store))
    total = time.perf_counter() - w
    print(f"  -> {report.models_tested:,} models, {report.tests:,} comparisons, {report.flags:,} flags on "
          f"{report.models_flagged:,} models; target under 60 s: {'met' if total < 60 else 'MISSED'}", flush=True)
    again = clock("detection again (scores unchanged)", lambda: emergence.detect_all(store))
    print(f"  -> {again.models_written} models rewritten")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--skip", choices=["sqlite", "postgresql"], action="append", default=[])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="hubkit-bench-") as tmp:
        if "sqlite" not in args.skip:
            run_backend("sqlite", f"sqlite:///{Path(tmp) / 'runs.db'}", args.runs)
        if "postgresql" not in args.skip:
            url, drop = pg_schema()
            try:
                run_backend("postgresql", url, args.runs)
            finally:
                drop()
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
