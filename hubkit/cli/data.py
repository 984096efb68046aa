"""``hubkit data check FILE``: the same validation the upload wizard runs, in a terminal."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hubkit.cli._table import render_table
from hubkit.config import load_settings
from hubkit.data import FORMATS, PreparedDataset, prepare_reference
from hubkit.errors import DataValidationError, ValidationError


def _mapping(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        column, sep, name = pair.partition("=")
        if not sep or not column or not name:
            raise ValidationError(
                f"--map takes COLUMN=FIELD, like question=instruction; got {pair!r}.", field="map")
        out[column] = name
    return out


def _tokenizer(path: str | None) -> Any:
    if path is None:
        return None
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path, local_files_only=True)


def _print_report(prepared: PreparedDataset, *, rows: int) -> None:
    stats = prepared.stats
    mapping = ", ".join(f"{c} → {f}" for c, f in prepared.column_mapping.items())
    print(f"{prepared.source.name}: valid {FORMATS[prepared.format].title.lower()} dataset "
          f"({prepared.format}), {stats.rows:,} rows")
    print(f"columns: {mapping}")
    print(f"fingerprint: {prepared.fingerprint}")
    tokens = f", {stats.tokens:,} tokens" if stats.tokens is not None else ""
    print(f"size: {stats.characters:,} characters, {stats.words:,} words{tokens}")
    print(f"length per row ({stats.unit}): min {stats.min_length}, mean {stats.mean_length}, "
          f"max {stats.max_length}")
    print(render_table(["length", "rows"],
                       [(f"{b.low}-{b.high}", b.count) for b in stats.histogram]))
    for warning in stats.warnings:
        print(f"note: {warning}")
    preview = prepared.preview(rows)
    if preview:
        headers = list(preview[0])
        print()
        table = [(i, *(_cell(r[h]) for h in headers)) for i, r in enumerate(preview, 1)]
        print(render_table(["row", *headers], table))


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return " | ".join(f"{m['role']}: {m['content']}" for m in value)
    return str(value)


def _check(args: argparse.Namespace) -> int:
    try:
        prepared = prepare_reference(
            ref=args.file, split=args.split, settings=load_settings(), format=args.format,
            mapping=_mapping(args.map), tokenizer=_tokenizer(args.tokenizer),
            max_seq_len=args.max_seq_len,
        )
    except DataValidationError as exc:
        problems = getattr(exc, "problems", [exc])
        if args.json:
            print(json.dumps({"valid": False, "problems": [
                {"file": p.file, "row": p.row, "field": p.field, "message": p.message}
                for p in problems], "total": getattr(exc, "total", len(problems))}, indent=2))
        else:
            print(f"{args.file} cannot be used:", file=sys.stderr)
            for p in problems:
                print(f"  - {p.message}", file=sys.stderr)
            more = getattr(exc, "total", len(problems)) - len(problems)
            if more > 0:
                print(f"  ... and {more} more.", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"valid": True, "format": prepared.format,
                          "column_mapping": prepared.column_mapping,
                          "fingerprint": prepared.fingerprint,
                          "stats": prepared.stats.to_dict(),
                          "preview": prepared.preview(args.rows)}, indent=2, ensure_ascii=False))
    else:
        _print_report(prepared, rows=args.rows)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="check datasets before training")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    p = data_sub.add_parser(
        "check", help="validate a dataset file (or a cached Hugging Face id) and show its stats",
        description="Exit status 0 when the dataset is valid, 2 when it is not.",
    )
    p.add_argument("file", help="a JSONL, JSON, CSV, TSV, Parquet or TXT file, or a dataset id")
    p.add_argument("--format", choices=sorted(FORMATS), help="the format, when detection is unsure")
    p.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                   help="use COLUMN as FIELD (text, instruction, input, response, prompt, "
                        "completion, messages); repeat for several")
    p.add_argument("--max-seq-len", type=int, help="report rows longer than this")
    p.add_argument("--tokenizer", help="folder of a tokenizer to count tokens with")
    p.add_argument("--split", default="train", help="split of a dataset id (default: train)")
    p.add_argument("--rows", type=int, default=5, help="rows to preview (default: 5)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_check)
