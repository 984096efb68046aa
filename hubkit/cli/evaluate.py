"""``hubkit eval MODEL``: benchmark a run (or a base model) on every domain, from a terminal.

``hubkit eval fetch-data`` downloads the standard suite's datasets instead (online).

MODEL is a run id or slug, or a base-model key. A run is scored after its base
model (so every score gets its delta); the base model's scores are reused when
one with the same stamp is already recorded.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hubkit.cli._table import render_table
from hubkit.errors import NotFound
from hubkit.evaluate import DOMAINS, SUITES

FETCH_DATA = "fetch-data"


class _Bar:
    """tqdm over domains, fed by the evaluation's progress callback."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, event: Any) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=event.total, unit="domain", desc=self.label, file=sys.stderr)
        self.bar.n = event.done
        self.bar.set_postfix_str(event.domain or "")
        self.bar.refresh()
        if event.done == event.total:
            self.bar.close()


def _fmt(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _rows(report: Any, deltas: dict[str, float | None]) -> list[list[Any]]:
    rows = []
    for s in report.scores:
        score = "" if s.value is None else f"{_fmt(s.value)} ± {_fmt(s.stderr)}"
        rows.append([s.domain, s.task, s.metric, score, s.n_samples, _fmt(deltas.get(s.task)),
                     s.status if s.status == "scored" else f"{s.status}: {s.reason}"])
    return rows


def _resolve(store: Any, name: str) -> tuple[str, Any]:
    try:
        return "run", store.get_run(int(name) if name.isdigit() else name)
    except NotFound:
        pass
    try:
        return "base", store.get_base_model(name)
    except NotFound:
        raise NotFound(f"There is no run or base model called {name!r}.") from None


def _fetch_data(args: argparse.Namespace) -> int:
    """Download every standard task's dataset into the Hugging Face cache (``--list``: only say which)."""
    from hubkit.evaluate.fetch import ensure_online, fetch, standard_datasets

    items = standard_datasets()
    rows = [[i.task, i.repo_id, i.config or ""] for i in items]
    if args.list:
        print(render_table(["task", "dataset", "config"], rows, max_width=70))
        return 0
    ensure_online()
    fetch(items, progress=lambda i: print(f"fetching {i.repo_id} {i.config or ''}".rstrip(), file=sys.stderr))
    print(f"{len(items)} datasets are in the Hugging Face cache; the standard suite runs offline on them now.")
    return 0


def _eval(args: argparse.Namespace) -> int:
    if args.model == FETCH_DATA:
        return _fetch_data(args)
    from hubkit.config import load_settings
    from hubkit.evaluate import evaluate_base, evaluate_model
    from hubkit.store import open_store

    store = open_store(settings=load_settings())
    kind, target = _resolve(store, args.model)
    common = {"store": store, "domains": args.domains, "suite": args.suite, "limit": args.limit}
    base_key = target.key if kind == "base" else target.base_model_key
    report = evaluate_base(base_key=base_key, progress=None if args.json else _Bar(f"base {base_key}"), **common)
    deltas: dict[str, float | None] = {}
    if kind == "run":
        report = evaluate_model(model_id=target.id, progress=None if args.json else _Bar(target.slug), **common)
        deltas = {r.task: r.delta_base for r in store.list_evaluations(model_id=target.id)}
    if args.json:
        print(json.dumps([{**s.evaluation().model_dump(), "delta_base": deltas.get(s.task)}
                          for s in report.scores], indent=2))
    else:
        print(render_table(["domain", "task", "metric", "score", "n", "vs base", "status"],
                           _rows(report, deltas), max_width=70))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval", help="benchmark a model on every domain",
        description="Score a run (id or slug) or a base model (key) with lm-evaluation-harness and "
                    "record the results. Code runs only when HUBKIT_ALLOW_CODE_EXECUTION=1.",
    )
    p.add_argument("model", help=f"run id or slug, or base-model key; or {FETCH_DATA} to download the standard "
                                 "benchmarks' data into the Hugging Face cache (needs the internet)")
    p.add_argument("--domains", nargs="+", choices=list(DOMAINS), metavar="DOMAIN",
                   help=f"domains to score (default: all of {', '.join(DOMAINS)})")
    p.add_argument("--suite", choices=list(SUITES), nargs="+", default=["offline"],
                   help="offline: micro-world tasks and HumanEval (default); "
                        "standard: published benchmarks whose data is on this machine; both: what the "
                        "platform scores every run on")
    p.add_argument("--limit", type=int, help="score only the first N items of each task (a quick look)")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    p.add_argument("--list", action="store_true", help=f"with {FETCH_DATA}: only list the datasets it fetches")
    p.set_defaults(func=_eval)
