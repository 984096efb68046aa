"""``hubkit research sweep`` (the advisor's designed sweep) and ``hubkit advise spec.yaml``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from hubkit.config import load_settings


def _sweep(args: argparse.Namespace) -> int:
    from hubkit.bootstrap import init_platform
    from hubkit.research import sweep

    settings = load_settings()
    store = init_platform(settings=settings, build_models=True)
    with tqdm(total=args.runs, desc="sweep", unit="point", file=sys.stderr) as bar:
        def step(done: int, total: int) -> None:
            bar.update(done - bar.n)

        todo = sweep.pending(store=store, n=args.runs, seed=args.seed, eval_limit=args.eval_limit)
        bar.update(args.runs - len(todo))
        report = sweep.run_sweep(n=args.runs, store=store, settings=settings, seed=args.seed,
                                 eval_limit=args.eval_limit, batch=args.batch, on_batch=step)
    print(f"{report.finished} of {report.planned} points finished ({report.already_done} before this call); "
          f"{len(report.jobs)} jobs, {len(report.failed_jobs)} failed: {report.failed_jobs or 'none'}")
    if args.export:
        for path in sweep.export_sweep(directory=args.export, store=store, n=args.runs, seed=args.seed,
                                       eval_limit=args.eval_limit):
            print(path)
    return 0 if not report.failed_jobs else 1


def register_research(rsub: argparse._SubParsersAction) -> None:
    """Adds ``sweep`` under ``hubkit research``."""
    from hubkit.research import sweep

    p = rsub.add_parser("sweep", help="run the advisor's designed sweep of real trainings (resumable)")
    p.add_argument("--runs", type=int, default=400, help="how many points of the design to finish")
    p.add_argument("--seed", type=int, default=sweep.DEFAULT_SEED, help="design seed (same seed, same points)")
    p.add_argument("--eval-limit", type=int, default=sweep.DEFAULT_EVAL_LIMIT,
                   help="items per benchmark task when each run is scored in every domain")
    p.add_argument("--batch", type=int, default=10, help="points per notebook job")
    p.add_argument("--export", metavar="DIR", help="then export the sweep (Parquet + datasheet) into DIR")
    p.set_defaults(func=_sweep)


def _load_spec(path_text: str) -> Any:
    from hubkit.cli.train import read_spec_file
    from hubkit.train.spec import TrainSpec

    path = Path(path_text)
    data = read_spec_file(path)
    return TrainSpec.parse(data, source=str(path))


def print_advice(advice: Any) -> None:
    from hubkit.cli._table import render_table

    print(advice.sentence)
    if advice.similar:
        print("\nMost similar past runs:")
        print(render_table(["id", "model", "distance", "outcome", "class", "gain"],
                           [(s.model_id, s.slug, f"{s.distance:.2f}", s.outcome, s.failure_class,
                             "" if s.gain is None else f"{s.gain:+.1f}") for s in advice.similar], max_width=60))
    if advice.abstained:
        return
    if advice.other_domains:
        print("\nExpected change in the other domains (points): "
              + ", ".join(f"{d} {v:+.1f}" for d, v in advice.other_domains.items()))
    if advice.drivers:
        print("\nWhat moved the prediction:")
        for d in advice.drivers:
            print(f"  - {d.sentence}")
    print(f"\n(learnt from {advice.n_runs} runs, {advice.n_similar} of them close to this setting; "
          f"model {advice.model_version})")


def _advise(args: argparse.Namespace) -> int:
    from hubkit.research import advisor
    from hubkit.store import LocalStore

    spec = _load_spec(args.spec)
    store = LocalStore(args.db or load_settings().database_url) if args.with_platform_runs else None
    fitted = advisor.fitted(store=store)
    advice = advisor.advise(spec, store=store, advisor=fitted)
    print_advice(advice)
    if args.recommend:
        rec = advisor.recommend(spec, store=store, advisor=fitted, max_risk=args.max_risk)
        print("\nRecommendation: " + rec.sentence)
        if rec.found:
            print("  settings: " + ", ".join(f"{k}={v}" for k, v in rec.settings.items() if v is not None))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("advise", help="predict a training's failure risk, gain and cost before launching it")
    p.add_argument("spec", help="a training spec (YAML), as `hubkit train --spec` takes")
    p.add_argument("--no-recommend", dest="recommend", action="store_false",
                   help="skip the search for a safer or better setting")
    p.add_argument("--max-risk", type=float, default=0.10, help="failure risk a recommendation must stay under")
    p.add_argument("--with-platform-runs", action="store_true",
                   help="learn from this platform's runs as well as the committed sweep")
    p.add_argument("--db", help="database URL (default: the configured run database)")
    p.set_defaults(func=_advise)
