"""``hubkit export`` (the run database as Parquet, or one model as GGUF / Ollama) and
``hubkit research museum | flags | genealogy | schema``."""
from __future__ import annotations

import argparse
import math
import sys

from tqdm import tqdm

from hubkit.cli._table import render_table
from hubkit.cli.advisor import register_research
from hubkit.config import load_settings
from hubkit.errors import ValidationError
from hubkit.store import LocalStore


def _url(args: argparse.Namespace) -> str:
    return args.db or load_settings().database_url


def _fmt(value: object, spec: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def _export(args: argparse.Namespace) -> int:
    if args.model is not None:
        from hubkit.cli.exports import export_model_command

        return export_model_command(args)
    if args.parquet is None:
        raise ValidationError("Say what to export: a model (hubkit export MODEL --format gguf) "
                              "or the run database (hubkit export --parquet DIR).", field="parquet")
    from hubkit.research.export import export

    with tqdm(total=7, desc="export", unit="table", file=sys.stderr) as bar:
        def step(name: str, rows: int) -> None:
            bar.set_postfix_str(f"{name}: {rows:,} rows")
            bar.update(1)

        paths = export(directory=args.parquet, url=_url(args), include_private=args.include_private,
                       licence=args.licence, progress=step)
    for path in paths:
        print(path)
    return 0


def _museum(args: argparse.Namespace) -> int:
    from hubkit.research import museum

    url = _url(args)
    shown = museum.exhibits(url=url, with_curves=True)
    if args.failure_class:
        shown = shown[shown["class_family"].astype(str) == args.failure_class]
    rows = [(r.model_id, r.name, r.domain, r.base_family, r.training_outcome, r.failure_class,
             _fmt(r.learning_rate, ".0e"), _fmt(r.lora_r), _fmt(r.dataset_rows), _fmt(r.final_loss, ".3f"),
             "yes" if r.nonfinite else "", _fmt(r.spikes), r.why)
            for r in shown.head(args.limit).itertuples(index=False)]
    print(render_table(["id", "name", "domain", "family", "outcome", "class", "lr", "rank", "rows",
                        "final loss", "nan/inf", "spikes", "why"], rows, max_width=60))
    summary = museum.summarise(url=url, exhibit_frame=shown if not args.failure_class else None)
    print()
    for line in summary.sentences:
        print(line)
    return 0


def _flags(args: argparse.Namespace) -> int:
    from hubkit.research import emergence

    store = LocalStore(_url(args))
    if args.detect:
        with tqdm(desc="storing flags", unit="model", file=sys.stderr) as bar:
            def step(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            report = emergence.detect_all(store, progress=step)
        print(f"Tested {report.models_tested:,} models ({report.tests:,} comparisons); "
              f"{report.flags:,} flags on {report.models_flagged:,} models.")
    flags = store.list_capability_flags()
    rows = [(f.model_id, f.domain, f.task, f.reference, f"{f.delta:+.3f}", f"{f.z:.1f}", f"{f.q_value:.3g}",
             f.sentence) for f in flags[: args.limit]]
    print(render_table(["model", "domain", "task", "vs", "delta", "z", "q", "finding"], rows, max_width=110))
    return 0


def _genealogy(args: argparse.Namespace) -> int:
    from hubkit.research import genealogy

    url = _url(args)
    if args.taint is not None:
        result = genealogy.taint(LocalStore(url), args.taint, reason=args.reason or "tainted")
        print(f"Dataset {result.dataset_id} tainted ({result.reason}); it marks {len(result.models)} models: "
              + ", ".join(str(m) for m in result.models))
        return 0
    graph = genealogy.build_graph(url=url)
    genealogy.check_acyclic(graph)
    if args.model is None:
        kinds: dict[str, int] = {}
        for _, data in graph.nodes(data=True):
            kinds[data.get("kind", "?")] = kinds.get(data.get("kind", "?"), 0) + 1
        forks = sum(1 for _, _, d in graph.edges(data=True) if d.get("relation") in ("fork", "continue", "resume"))
        print(f"{kinds.get('model', 0):,} models, {kinds.get('base', 0)} base models, "
              f"{kinds.get('dataset', 0):,} datasets, {forks:,} fork/continue/resume links.")
        marks = genealogy.tainted_models(graph)
        if marks:
            print(f"{len(marks):,} models are marked by a tainted dataset.")
        return 0
    chain = genealogy.model_chain(graph, args.model)
    rows = []
    for i, model_id in enumerate(chain):
        node = graph.nodes[genealogy.model_node(model_id)]
        parents = list(graph.predecessors(genealogy.model_node(model_id)))
        change = next((graph.edges[p, genealogy.model_node(model_id)].get("change") for p in parents
                       if graph.nodes[p].get("kind") in ("model", "base")), {}) or {}
        rows.append((i, model_id, node.get("label"), node.get("domain"), node.get("outcome"),
                     ", ".join(f"{d} {v:+.3f}" for d, v in sorted(change.items()))))
    print(render_table(["generation", "id", "model", "domain", "outcome", "change vs the step before"], rows,
                       max_width=80))
    datasets = sorted(genealogy.contributing_datasets(graph, args.model))
    print(f"Datasets that contributed: {', '.join(str(d) for d in datasets) or 'none recorded'}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from hubkit.research.dictionary import render_markdown

    sys.stdout.write(render_markdown())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write the run database as Parquet files with a datasheet, or export "
                                      "one model as a GGUF file or an Ollama bundle")
    p.add_argument("model", nargs="?", help="a model's id or slug: export it (GGUF / Ollama) instead")
    p.add_argument("--parquet", metavar="DIR", help="folder to write the run database's files into")
    p.add_argument("--include-private", action="store_true", help="also export private models (off by default)")
    p.add_argument("--licence", default="CC-BY-4.0", help="licence stated in the datasheet")
    p.add_argument("--db", help="database URL (default: the configured run database)")
    from hubkit.cli.exports import add_model_export_flags

    add_model_export_flags(p)
    p.set_defaults(func=_export)

    research = sub.add_parser("research", help="failure museum, capability flags, genealogy, schema")
    rsub = research.add_subparsers(dest="research_command", required=True, metavar="WHAT")
    p = rsub.add_parser("museum", help="every failed, partial, early-stopped, regressed or disliked run")
    p.add_argument("--class", dest="failure_class", help="only one failure class (e.g. divergence)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--db")
    p.set_defaults(func=_museum)
    p = rsub.add_parser("flags", help="capability changes outside a model's own domain")
    p.add_argument("--detect", action="store_true", help="recompute every model's flags first")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--db")
    p.set_defaults(func=_flags)
    p = rsub.add_parser("genealogy", help="lineage of models and datasets")
    p.add_argument("--model", type=int, help="show this model's chain of parents and its datasets")
    p.add_argument("--taint", type=int, metavar="DATASET_ID", help="taint a dataset and list the models it marks")
    p.add_argument("--reason", help="why the dataset is tainted (contamination, licence...)")
    p.add_argument("--db")
    p.set_defaults(func=_genealogy)
    p = rsub.add_parser("schema", help="print docs/schema.md, generated from the database models")
    p.set_defaults(func=_schema)
    register_research(rsub)
