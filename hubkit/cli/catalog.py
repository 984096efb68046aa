"""``hubkit catalog build | list | pull``: make the offline stand-ins, show the base models, fetch real weights."""
from __future__ import annotations

import argparse

from tqdm import tqdm

from hubkit.catalog.families import FAMILIES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("catalog", help="base models and their offline stand-ins")
    sub = parser.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    build = sub.add_parser("build", help="build the offline stand-in models under HUBKIT_HOME")
    build.add_argument("--families", nargs="+", choices=list(FAMILIES), help="only these families")
    build.add_argument("--seed", type=int, default=0, help="seed for tokenizer corpus, weights and data order")
    build.add_argument("--force", action="store_true", help="rebuild even when an identical build exists")
    build.add_argument("--ship", action="store_true",
                       help="also write the builds into the package, as the stand-ins it ships (maintainers)")
    build.set_defaults(func=_build)
    listing = sub.add_parser("list", help="show every base model, stand-ins labelled")
    listing.set_defaults(func=_list)
    fetch = sub.add_parser("pull", help="download a real base model's weights into the Hugging Face cache "
                                        "(HF_TOKEN for gated models)")
    fetch.add_argument("model", help="a catalog key or Hugging Face id, e.g. Qwen/Qwen2.5-0.5B-Instruct")
    fetch.set_defaults(func=_pull)


def _build(args: argparse.Namespace) -> int:
    from hubkit.catalog import BuildProgress, build_standins

    bars: dict[str, tqdm] = {}

    def show(event: BuildProgress) -> None:
        bar = bars.get(event.family)
        if bar is None:
            bar = bars[event.family] = tqdm(total=event.total or None, desc=event.family, unit="step")
        if event.stage == "pretrain":
            bar.total = event.total
            bar.n = event.step
            bar.set_postfix(loss=f"{event.loss:.3f}")
            bar.refresh()
        elif event.stage in {"saved", "shipped", "skipped"}:
            bar.set_postfix_str(event.stage)
            bar.close()

    paths = build_standins(families=args.families, seed=args.seed, progress=show, force=args.force,
                           ship=args.ship)
    for path in paths:
        print(path)
    return 0


def _pull(args: argparse.Namespace) -> int:
    from hubkit.catalog.pull import pull

    folder = pull(args.model, progress=print)
    print(f"{args.model} is in the Hugging Face cache: {folder}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from hubkit.catalog import list_base_models
    from hubkit.catalog.pull import cached_snapshot

    rows = [
        (
            info.key,
            info.label,
            f"{info.parameters / 1e9:.2f}B" if info.parameters >= 1e8 else f"{info.parameters / 1e6:.2f}M",
            info.licence,
            ("built" if info.built else "not built") if info.is_standin
            else ("in cache" if cached_snapshot(info.hf_id) else "hubkit catalog pull"),
        )
        for info in list_base_models()
    ]
    header = ("KEY", "MODEL", "SIZE", "LICENCE", "STATUS")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0
