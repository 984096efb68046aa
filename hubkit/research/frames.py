"""Run frames: the run database as pandas DataFrames with typed columns.

Each frame is a few bulk SQL reads on the read engine (see ``_bulk`` for how
``runs()`` reads 100,000 runs in seconds). Column meanings are listed in
:data:`FRAME_COLUMNS` and in docs/research.md.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, text

from hubkit.research._bulk import (
    Field,
    fetch_document,
    fetch_table,
    latest_pivot,
    parse_document,
    to_pandas,
)
from hubkit.research._source import engine_for, json_key, json_text

if TYPE_CHECKING:
    from hubkit.store import Store

SCORE_PREFIX = "score."
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_CATEGORIES = ("domain", "base_family", "training_outcome", "status", "visibility", "executed_by",
               "parent_relation", "failure_class", "device", "precision")
_TIMES = ("created_at", "started_at", "finished_at", "evaluated_at")
_NULLABLE_INTS = ("parent_model_id", "dataset_id", "dataset_rows", "dataset_parent_id", "seed")
_TEXTS = ("slug", "name", "owner", "base_model", "dataset_fingerprint", "dataset_tainted", "failure_message",
          "template", "template_version")

FRAME_COLUMNS: dict[str, dict[str, str]] = {
    "runs": {
        "model_id": "models.id of the attempt (one row per training attempt, failures included)",
        "slug": "stable URL name of the model",
        "name": "name the owner gave the model",
        "owner": "username of the owner",
        "domain": "the domain the model was fine-tuned for",
        "base_model": "catalog key of the base model (e.g. llama3-standin)",
        "base_family": "family of the base model (llama3, mistral, phi3, qwen2...)",
        "base_is_standin": "True when the base model is an offline stand-in of the family",
        "parent_model_id": "models.id this attempt was forked/continued/resumed from; <NA> when trained from the base",
        "parent_relation": "fork, continue or resume; <NA> without a parent",
        "dataset_id": "datasets.id of the training data",
        "dataset_fingerprint": "sha256 of the training data",
        "dataset_rows": "rows in the training dataset",
        "dataset_parent_id": "datasets.id the training data was derived from",
        "dataset_tainted": "reason the training data was tainted (contamination, licence); <NA> when clean",
        "training_outcome": "success, failure or partial; <NA> while running",
        "status": "queued, running or finished",
        "failure_class": "failure class as recorded by training (divergence, oom, exception:<type>, lost, time_budget, cancelled...)",
        "failure_message": "the failure in words",
        "created_at": "when the row was created (UTC)",
        "started_at": "when training started (UTC)",
        "finished_at": "when the outcome was recorded (UTC); for lost runs the last heartbeat",
        "evaluated_at": "when the platform's evaluation worker recorded the model's scores (UTC)",
        "duration_s": "seconds from start to finish",
        "device": "the kind of device it trained on: cpu or cuda (from the run's hardware record)",
        "precision": "the precision it trained in: fp32, bf16 or fp16 (from the run's hardware record)",
        "seed": "random seed of the run",
        "visibility": "public, unlisted or private",
        "executed_by": "platform (scheduled job) or user (developer kernel)",
        "template": "the notebook template the run came from, if any",
        "template_version": "version of that template",
        "thumbs_up": "number of thumbs-up votes",
        "thumbs_down": "number of thumbs-down votes",
        "n_capability_flags": "number of capability flags raised on the model",
        "config.<key>": "each key of the training configuration (TrainSpec), nested keys joined with dots",
        "score.<domain>.<task>": "the latest value recorded for that benchmark task (as in benchmark_scores)",
    },
    "scores": {
        "evaluation_id": "evaluations.id",
        "model_id": "models.id scored; <NA> for a base model's baseline",
        "slug": "slug of the model; <NA> for a baseline",
        "base_model": "catalog key of the base model (of the model, or the baseline's own)",
        "is_baseline": "True when the row scores a base model itself",
        "model_domain": "the domain the model was fine-tuned for; <NA> for a baseline",
        "domain": "benchmark domain",
        "task": "benchmark task",
        "metric": "metric name (acc, exact_match, pass@1...)",
        "value": "score",
        "stderr": "standard error of the score, as reported by the harness",
        "n": "number of samples scored",
        "status": "scored, skipped, refused or error",
        "stamp_hash": "sha256 of the reproducibility stamp; scores are comparable only with equal stamps",
        "delta_base": "value minus the base model's value under the same stamp",
        "delta_parent": "value minus the parent model's value under the same stamp",
        "executed_by": "platform or user; leaderboards use platform scores only",
        "is_current": "False once the same task was re-run under the same stamp",
        "created_at": "when the score was recorded (UTC)",
    },
    "curves": {
        "model_id": "models.id",
        "seq": "order in which the point was logged (0, 1, 2...)",
        "step": "optimizer step",
        "epoch": "epoch (fractional)",
        "loss": "training loss; NaN/inf when training diverged",
        "lr": "learning rate at that step",
        "grad_norm": "gradient norm",
        "eval_loss": "evaluation loss when an evaluation ran at that step, else NaN",
        "nonfinite": "names of the fields whose logged value was NaN/inf (e.g. 'loss'); missing when all finite",
    },
    "lineage": {
        "model_id": "models.id",
        "slug": "slug of the model",
        "parent_model_id": "models.id of the parent; <NA> when trained from the base model",
        "parent_relation": "fork, continue or resume",
        "base_model": "catalog key of the base model",
        "domain": "the domain the model was fine-tuned for",
        "dataset_id": "datasets.id of the training data",
        "dataset_parent_id": "datasets.id the training data was derived from",
        "dataset_tainted": "taint reason of the training data, if any",
        "training_outcome": "success, failure or partial",
    },
}


def _visibility_clause(include_private: bool, alias: str = "m") -> str:
    return "" if include_private else f" AND {alias}.visibility <> 'private'"


def _read(engine: Engine, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params=params or {})


def _utc(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    for name in columns:
        if name in frame:
            frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601").astype("datetime64[us, UTC]")


def _finish_types(frame: pd.DataFrame) -> None:
    for name in _CATEGORIES:
        if name in frame:
            frame[name] = frame[name].astype("category")
    for name in _NULLABLE_INTS:
        if name in frame:
            frame[name] = frame[name].astype("Int64")
    for name in _TEXTS:
        if name in frame:
            frame[name] = frame[name].astype("str")
    _utc(frame, _TIMES)


_RUN_FIELDS = (
    Field("model_id", "m.id", pa.int64()),
    Field("slug", "m.slug", pa.string()),
    Field("name", "m.name", pa.string()),
    Field("owner", "u.username", pa.string()),
    Field("domain", "m.domain", pa.string()),
    Field("base_model", "b.key", pa.string()),
    Field("base_family", "b.family", pa.string()),
    Field("base_is_standin", "b.is_standin", pa.bool_()),
    Field("parent_model_id", "m.parent_model_id", pa.int64()),
    Field("parent_relation", "m.parent_relation", pa.string()),
    Field("dataset_id", "m.dataset_id", pa.int64()),
    Field("dataset_fingerprint", "m.dataset_fingerprint", pa.string()),
    Field("dataset_rows", "d.n_rows", pa.int64()),
    Field("dataset_parent_id", "d.parent_dataset_id", pa.int64()),
    Field("dataset_tainted", "d.tainted", pa.string()),
    Field("training_outcome", "m.training_outcome", pa.string()),
    Field("status", "m.status", pa.string()),
    Field("failure_class", "m.failure_class", pa.string()),
    Field("failure_message", "m.failure_message", pa.string()),
    Field("created_at", "m.created_at", pa.string()),
    Field("started_at", "m.started_at", pa.string()),
    Field("finished_at", "m.finished_at", pa.string()),
    Field("evaluated_at", "m.evaluated_at", pa.string()),
    Field("duration_s", "m.duration_s", pa.float64()),
    Field("seed", "m.seed", pa.int64()),
    Field("visibility", "m.visibility", pa.string()),
    Field("executed_by", "m.executed_by", pa.string()),
    Field("template", "m.template", pa.string()),
    Field("template_version", "m.template_version", pa.string()),
)
_RUN_JOINS = (" JOIN users u ON u.id = m.owner_id JOIN base_models b ON b.id = m.base_model_id "
              "LEFT JOIN datasets d ON d.id = m.dataset_id")
_SCORE_FIELDS = (Field("id", "e.id", pa.int64()), Field("model_id", "e.model_id", pa.int64()),
                 Field("task", "e.domain || '.' || e.task", pa.string()), Field("value", "e.value", pa.float64()))


def _score_rows(engine: Engine) -> pa.Table:
    """Every model's evaluations (id, model, "domain.task", value); the newest of each (model, task)
    wins in the pivot: the same numbers as ``benchmark_scores``."""
    return fetch_table(engine, _SCORE_FIELDS, table="evaluations", alias="e", where=" AND e.model_id IS NOT NULL")


def _arrow_times(table: pa.Table) -> pa.Table:
    """Timestamps parsed by Arrow (with a zone offset as PostgreSQL writes them, or naive UTC as SQLite
    stores them); a column in any other form stays text for pandas to parse in :func:`_utc`."""
    for name in _TIMES:
        if name not in table.column_names:
            continue
        column = table.column(name)
        for parse in (lambda c: pc.cast(c, pa.timestamp("us", tz="UTC")),
                      lambda c: pc.cast(c, pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))):
            try:
                parsed = parse(column)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            table = table.set_column(table.column_names.index(name), name, parsed)
            break
    return table


def _run_fields(engine: Engine) -> tuple[Field, ...]:
    """The flat columns, with the training device and precision read from the run's hardware record."""
    return (*_RUN_FIELDS, Field("device", json_key(engine, "m.hardware", "kind"), pa.string()),
            Field("precision", json_key(engine, "m.hardware", "precision"), pa.string()))


def _config_columns(engine: Engine, where: str) -> pd.DataFrame:
    return parse_document(fetch_document(engine, "m.config", table="models", alias="m", where=where), "config")


def runs(*, url: str | None = None, store: Store | None = None, include_private: bool = True) -> pd.DataFrame:
    """One row per training attempt (failed, partial and running ones included).

    Configuration keys become ``config.<key>`` columns and every benchmark task
    ever run becomes a ``score.<domain>.<task>`` column; see :data:`FRAME_COLUMNS`.
    """
    engine = engine_for(url=url, store=store)
    where = _visibility_clause(include_private)
    # Flat columns, configurations and scores are independent reads: side by side on connections of
    # their own (the drivers and Arrow release the GIL while they work).
    with ThreadPoolExecutor(max_workers=2) as pool:
        config_job = pool.submit(_config_columns, engine, where)
        scores_job = pool.submit(_score_rows, engine)  # private models drop out in the pivot
        # The only read through a cursor (it holds the GIL), on this thread while the others run.
        flat = fetch_table(engine, _run_fields(engine), table="models", alias="m", joins=_RUN_JOINS, where=where,
                           cursor=True)
        votes = _read(engine, (
            "SELECT f.model_id, SUM(CASE WHEN f.thumbs_up THEN 1 ELSE 0 END) AS thumbs_up, "
            "SUM(CASE WHEN f.thumbs_up THEN 0 ELSE 1 END) AS thumbs_down FROM feedback f GROUP BY f.model_id"))
        flags = _read(engine, "SELECT model_id, COUNT(*) AS n_capability_flags FROM capability_flags GROUP BY model_id")
        config = config_job.result()
        score_rows = scores_job.result()
    frame = to_pandas(_arrow_times(flat))
    ids = frame["model_id"].to_numpy(dtype="int64")
    if len(config.columns):
        if not np.array_equal(config.index.to_numpy(), ids):
            config = config.reindex(ids)  # a run was created between the two reads
        config.index = frame.index
        frame = pd.concat([frame, config], axis=1)
    for side in (votes, flags):
        side = side.set_index("model_id")
        for name in side.columns:
            frame[name] = side[name].reindex(ids).fillna(0).astype("int64").to_numpy()
    if score_rows.num_rows:
        wide = latest_pivot(ids, score_rows.column("id").to_numpy(), score_rows.column("model_id").to_numpy(),
                            score_rows.column("task"), score_rows.column("value").to_numpy(zero_copy_only=False),
                            rename=lambda task: SCORE_PREFIX + task)
        wide.index = frame.index
        frame = pd.concat([frame, wide], axis=1)
    _finish_types(frame)
    return frame


def scores(*, url: str | None = None, store: Store | None = None, include_private: bool = True,
           current_only: bool = True, include_baselines: bool = True) -> pd.DataFrame:
    """Every evaluation in long format: one row per (model or base model, task run)."""
    engine = engine_for(url=url, store=store)
    where = []
    if current_only:
        where.append("e.is_current = :yes")
    if not include_private:
        where.append("(m.visibility IS NULL OR m.visibility <> 'private')")
    if not include_baselines:
        where.append("e.model_id IS NOT NULL")
    sql = (
        "SELECT e.id AS evaluation_id, e.model_id, m.slug, COALESCE(bm.key, bb.key) AS base_model, "
        "m.domain AS model_domain, e.domain, e.task, e.metric, e.value, e.stderr, e.n_samples AS n, e.status, "
        "e.stamp_hash, e.delta_base, e.delta_parent, e.executed_by, e.is_current, e.created_at "
        "FROM evaluations e LEFT JOIN models m ON m.id = e.model_id "
        "LEFT JOIN base_models bm ON bm.id = m.base_model_id LEFT JOIN base_models bb ON bb.id = e.base_model_id"
        + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY e.id")
    frame = _read(engine, sql, {"yes": True})
    frame.insert(4, "is_baseline", frame["model_id"].isna())
    frame["model_id"] = frame["model_id"].astype("Int64")
    frame["is_current"] = frame["is_current"].astype(bool)
    frame["n"] = frame["n"].astype("int64")
    for name in ("value", "stderr", "delta_base", "delta_parent"):
        frame[name] = frame[name].astype("float64")
    for name in ("model_domain", "domain", "status", "executed_by"):
        frame[name] = frame[name].astype("category")
    _utc(frame, ["created_at"])
    return frame


def curves(*, url: str | None = None, store: Store | None = None, model_ids: Sequence[int] | None = None,
           include_private: bool = True) -> pd.DataFrame:
    """Every logged training point in long format, NaN/inf restored as floats."""
    engine = engine_for(url=url, store=store)
    where = ""
    params: dict[str, Any] = {}
    if model_ids is not None:
        ids = [int(i) for i in model_ids]
        if not ids:
            ids = [-1]
        where = " AND p.model_id IN (" + ",".join(str(i) for i in ids) + ")"
    sql = (
        "SELECT p.model_id, p.seq, p.step, p.epoch, p.loss, p.lr, p.grad_norm, p.eval_loss, "
        f"{json_text(engine, 'p.nonfinite')} AS nonfinite FROM loss_points p JOIN models m ON m.id = p.model_id "
        "WHERE 1=1" + _visibility_clause(include_private) + where + " ORDER BY p.model_id, p.seq")
    frame = _read(engine, sql, params)
    for name in ("epoch", "loss", "lr", "grad_norm", "eval_loss"):
        frame[name] = frame[name].astype("float64")
    marks = frame.pop("nonfinite")
    has = marks.notna() & (marks != "null")  # JSON null is stored as the text 'null'
    names: list[Any] = [None] * len(frame)
    for i, raw in zip(np.flatnonzero(has.to_numpy()), marks[has], strict=True):
        found = json.loads(raw) if isinstance(raw, str) else raw
        if not found:
            continue
        for field, value in found.items():
            frame.iat[i, frame.columns.get_loc(field)] = _NONFINITE.get(value, math.nan)
        names[i] = ",".join(sorted(found))
    frame["nonfinite"] = pd.Series(names, index=frame.index, dtype="str")
    frame["model_id"] = frame["model_id"].astype("int64")
    return frame


def lineage(*, url: str | None = None, store: Store | None = None, include_private: bool = True) -> pd.DataFrame:
    """Model → parent model and dataset → parent dataset, one row per model."""
    engine = engine_for(url=url, store=store)
    frame = _read(engine, (
        "SELECT m.id AS model_id, m.slug, m.parent_model_id, m.parent_relation, b.key AS base_model, m.domain, "
        "m.dataset_id, d.parent_dataset_id AS dataset_parent_id, d.tainted AS dataset_tainted, m.training_outcome "
        "FROM models m JOIN base_models b ON b.id = m.base_model_id LEFT JOIN datasets d ON d.id = m.dataset_id "
        "WHERE 1=1" + _visibility_clause(include_private) + " ORDER BY m.id"))
    _finish_types(frame)
    return frame
