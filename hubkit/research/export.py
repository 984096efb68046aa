"""Research export: the run database as Parquet files plus a datasheet, ready to publish.

What leaves the platform: every training attempt that is not private (failures
included), its scores, curves, lineage, events and feedback. Users appear only
by username. Private models — and their scores, curves, events and feedback —
stay out unless ``include_private=True``.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import text

from hubkit.research import frames
from hubkit.research._source import database_url, engine_for

if TYPE_CHECKING:
    from hubkit.store import Store

DEFAULT_LICENCE = "CC-BY-4.0"

EXTRA_COLUMNS: dict[str, dict[str, str]] = {
    "evaluations": {
        "evaluation_id": "evaluations.id", "model_id": "models.id; missing for a base model's baseline",
        "base_model": "catalog key of the base model", "domain": "benchmark domain", "task": "benchmark task",
        "metric": "metric name", "value": "score", "stderr": "standard error", "n": "samples scored",
        "status": "scored, skipped, refused or error", "skip_reason": "why it was not scored",
        "stamp": "JSON reproducibility stamp", "stamp_hash": "sha256 of the stamp",
        "delta_base": "value minus the base model's", "delta_parent": "value minus the parent's",
        "executed_by": "platform or user", "is_current": "False once re-run under the same stamp",
        "created_at": "when recorded (UTC)",
    },
    "events": {
        "event_id": "events.id", "model_id": "models.id; missing for events about datasets",
        "kind": "early_stop, divergence, oom, cancel, resume, fork, publish, taint...", "payload": "JSON details",
        "actor": "username who caused it; missing for the platform", "created_at": "when it happened (UTC)",
    },
    "feedback": {
        "model_id": "models.id", "username": "who voted", "thumbs_up": "True for up, False for down",
        "comment": "optional comment", "created_at": "first vote (UTC)", "updated_at": "last change (UTC)",
    },
}


def _private_filter(include_private: bool, column: str = "m.visibility") -> str:
    return "" if include_private else f" AND ({column} IS NULL OR {column} <> 'private')"


def evaluations(*, url: str | None = None, store: Store | None = None, include_private: bool = False) -> pd.DataFrame:
    """Every evaluation row ever recorded, history included, with its stamp as JSON text."""
    engine = engine_for(url=url, store=store)
    stamp = "CAST(e.stamp AS TEXT)" if engine.dialect.name == "postgresql" else "e.stamp"
    with engine.connect() as conn:
        frame = pd.read_sql(text(
            "SELECT e.id AS evaluation_id, e.model_id, COALESCE(bm.key, bb.key) AS base_model, e.domain, e.task, "
            f"e.metric, e.value, e.stderr, e.n_samples AS n, e.status, e.skip_reason, {stamp} AS stamp, "
            "e.stamp_hash, e.delta_base, e.delta_parent, e.executed_by, e.is_current, e.created_at "
            "FROM evaluations e LEFT JOIN models m ON m.id = e.model_id "
            "LEFT JOIN base_models bm ON bm.id = m.base_model_id LEFT JOIN base_models bb ON bb.id = e.base_model_id "
            "WHERE 1=1" + _private_filter(include_private) + " ORDER BY e.id"), conn)
    frame["model_id"] = frame["model_id"].astype("Int64")
    frame["is_current"] = frame["is_current"].astype(bool)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    return frame


def events(*, url: str | None = None, store: Store | None = None, include_private: bool = False) -> pd.DataFrame:
    engine = engine_for(url=url, store=store)
    payload = "CAST(ev.payload AS TEXT)" if engine.dialect.name == "postgresql" else "ev.payload"
    with engine.connect() as conn:
        frame = pd.read_sql(text(
            f"SELECT ev.id AS event_id, ev.model_id, ev.kind, {payload} AS payload, u.username AS actor, "
            "ev.created_at FROM events ev LEFT JOIN models m ON m.id = ev.model_id "
            "LEFT JOIN users u ON u.id = ev.actor_id WHERE 1=1" + _private_filter(include_private)
            + " ORDER BY ev.id"), conn)
    frame["model_id"] = frame["model_id"].astype("Int64")
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    return frame


def feedback(*, url: str | None = None, store: Store | None = None, include_private: bool = False) -> pd.DataFrame:
    engine = engine_for(url=url, store=store)
    with engine.connect() as conn:
        frame = pd.read_sql(text(
            "SELECT f.model_id, u.username, f.thumbs_up, f.comment, f.created_at, f.updated_at FROM feedback f "
            "JOIN models m ON m.id = f.model_id JOIN users u ON u.id = f.user_id WHERE 1=1"
            + _private_filter(include_private) + " ORDER BY f.id"), conn)
    frame["thumbs_up"] = frame["thumbs_up"].astype(bool)
    for name in ("created_at", "updated_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame


def _tables(url: str, include_private: bool) -> dict[str, Callable[[], pd.DataFrame]]:
    return {
        "runs": lambda: frames.runs(url=url, include_private=include_private),
        "scores": lambda: frames.scores(url=url, include_private=include_private),
        "curves": lambda: frames.curves(url=url, include_private=include_private),
        "lineage": lambda: frames.lineage(url=url, include_private=include_private),
        "evaluations": lambda: evaluations(url=url, include_private=include_private),
        "events": lambda: events(url=url, include_private=include_private),
        "feedback": lambda: feedback(url=url, include_private=include_private),
    }


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    partial = path.with_name(path.name + ".partial")
    frame.to_parquet(partial, index=False)
    os.replace(partial, path)  # a reader never sees a half-written file


def export(*, directory: str | Path, url: str | None = None, store: Store | None = None,
           include_private: bool = False, licence: str = DEFAULT_LICENCE,
           progress: Callable[[str, int], None] | None = None) -> list[Path]:
    """Write one Parquet file per table and ``datasheet.md`` into ``directory``; return their paths."""
    source = database_url(url=url, store=store)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    counts: dict[str, int] = {}
    schemas: dict[str, pd.Series] = {}
    for name, build in _tables(source, include_private).items():
        frame = build()
        path = out / f"{name}.parquet"
        _write_parquet(frame, path)
        written.append(path)
        counts[name] = len(frame)
        schemas[name] = frame.dtypes
        if progress is not None:
            progress(name, len(frame))
    sheet = out / "datasheet.md"
    partial = sheet.with_name(sheet.name + ".partial")
    partial.write_text(datasheet(counts=counts, schemas=schemas, include_private=include_private, licence=licence),
                       encoding="utf-8")
    os.replace(partial, sheet)
    written.append(sheet)
    return written


def _meaning(table: str, column: str) -> str:
    known = {**frames.FRAME_COLUMNS.get(table, {}), **EXTRA_COLUMNS.get(table, {})}
    if column in known:
        return known[column]
    if table == "runs" and column.startswith("config."):
        return known["config.<key>"]
    if table == "runs" and column.startswith("score."):
        return known["score.<domain>.<task>"]
    return ""


def datasheet(*, counts: dict[str, int], schemas: dict[str, pd.Series], include_private: bool,
              licence: str) -> str:
    """The datasheet that travels with an export: what is in it, how it was collected, what is left out."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# AI Model Hub run database — datasheet",
        "",
        f"Exported {stamp}. Licence of this data set: {licence}.",
        "",
        "## What it is",
        "",
        "One record per attempt to fine-tune an open base model with LoRA on the AI Model Hub, whether the",
        "attempt succeeded, failed or was stopped partway, with its full training configuration, its loss",
        "curve, its benchmark scores in every domain, its lineage (forks, continued and resumed runs, derived",
        "datasets) and what people said about it.",
        "",
        "## How it was collected",
        "",
        "- Every training attempt is written by the platform's store as it happens: the row is created before",
        "  training starts, every logged point is appended while it trains, and the outcome is set once at the",
        "  end. Runs whose process died are marked `failure` / `lost` by a reaper, keeping the points logged",
        "  before the kill.",
        "- Scores come from lm-evaluation-harness runs scheduled by the platform for every model in every",
        "  domain; each carries its standard error, sample count and a reproducibility stamp (harness and task",
        "  version, shots, batch size, chat template, limit). Scores compare only under equal `stamp_hash`.",
        "  Scores computed in a developer's own kernel are marked `executed_by = user`.",
        "- Base models on a machine without their real weights are tiny offline stand-ins of the same",
        "  architecture (`base_is_standin`); their scores are not comparable with the real models'.",
        "- Non-finite losses are kept: NaN/inf become NaN/inf floats in `curves` (see its `nonfinite` column).",
        "",
        "## What is excluded",
        "",
        ("- Private models are included in this export (it was asked for)." if include_private else
         "- Private models, and their scores, curves, events and feedback, are excluded. Public and unlisted "
         "models are included. A public fork of a private model keeps its `parent_model_id`, which then names "
         "a row that is not in the export."),
        "- People appear only by username: no display names, roles, e-mail addresses, tokens or passwords.",
        "- Uploaded training data, adapters and executed notebooks are not included; `dataset_fingerprint` and",
        "  the artifact hashes identify them.",
        "- Capability flags are derived data; recompute them with `hubkit.research.emergence`.",
        "",
        "## Files",
        "",
    ]
    for name, dtypes in schemas.items():
        lines += [f"### {name}.parquet ({counts[name]:,} rows)", "", "| column | type | meaning |", "|---|---|---|"]
        for column, dtype in dtypes.items():
            lines.append(f"| `{column}` | {dtype} | {_meaning(name, str(column)).replace('|', '/')} |")
        lines.append("")
    lines += ["The database schema behind these files is described in docs/schema.md of the platform.", ""]
    return "\n".join(lines)
