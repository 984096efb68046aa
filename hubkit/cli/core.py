"""``hubkit init | runs | show``: the run database from the terminal."""
from __future__ import annotations

import argparse
import json

from hubkit.bootstrap import init_platform
from hubkit.cli._table import render_table
from hubkit.config import load_settings
from hubkit.db.migrate import current_revision
from hubkit.store import LocalStore


def _init(args: argparse.Namespace) -> int:
    url = init_platform().url
    print(f"Run database ready at {url} (schema revision {current_revision(url)}).")
    print("Query it from Python:")
    print("    import hubkit.research as r; r.runs()")
    print(f"    import pandas as pd, sqlalchemy as sa; pd.read_sql('select * from models', sa.create_engine({url!r}))")
    return 0


def _store() -> LocalStore:
    return LocalStore(load_settings().database_url)


def _runs(args: argparse.Namespace) -> int:
    runs = _store().list_runs(domain=args.domain, outcome=args.outcome, limit=args.limit)
    rows = [
        (r.id, r.name, r.owner, r.domain, r.base_model_key, r.status.value,
         r.training_outcome.value if r.training_outcome else "-", r.failure_class or "",
         r.parent_model_id or "", r.visibility.value, len(r.loss_curve_data or []))
        for r in runs
    ]
    print(render_table(["id", "name", "owner", "domain", "base", "status", "outcome", "failure",
                        "parent", "visibility", "points"], rows))
    return 0


def _show(args: argparse.Namespace) -> int:
    key: int | str = int(args.run) if args.run.isdigit() else args.run
    run = _store().get_run(key)
    print(json.dumps(run.model_dump(mode="json"), indent=2, sort_keys=True))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create or upgrade the run database")
    p.set_defaults(func=_init)

    p = sub.add_parser("runs", help="list training attempts, failures included")
    p.add_argument("--domain")
    p.add_argument("--outcome", choices=["success", "failure", "partial"])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_runs)

    p = sub.add_parser("show", help="everything recorded about one run (id or slug)")
    p.add_argument("run")
    p.set_defaults(func=_show)
