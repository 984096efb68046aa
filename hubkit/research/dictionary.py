"""The data dictionary: every table and column of the run database, for researchers.

Types, keys and nullability come from the SQLAlchemy models in
``hubkit.db.models``; the meaning of each column is written here once.
``docs/schema.md`` is generated from :func:`render_markdown` and a test keeps
it in step with the models, so the document cannot drift.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, Column, DateTime, Enum, String, Text

from hubkit.db.models import Base

TABLE_PURPOSE: dict[str, str] = {
    "users": "People with an account; only usernames leave the platform in exports.",
    "base_models": "The catalog of open base models (and their offline stand-ins) that models are fine-tuned from.",
    "datasets": "Training datasets, content-addressed by fingerprint, with their derivation (parent_dataset_id).",
    "models": "One row per training attempt, failed and killed ones included: the core of the run database.",
    "loss_points": "Append-only: every logged training point, written while the run trains.",
    "evaluations": "One row per benchmark task run on a model or on a base model (its baseline).",
    "feedback": "Thumbs up/down and an optional comment; one per user per model.",
    "jobs": "Scheduled platform work (training, evaluation, template runs) and its state.",
    "notebook_runs": "Every executed notebook, archived by content hash and linked to its job and model.",
    "events": "What happened to a run over time: early stop, divergence, out of memory, cancel, resume, fork, publish...",
    "capability_flags": "Significant score changes outside a model's own domain, found by emergent-capability detection.",
    "dataset_items": "Hashes of normalised training items, used to check benchmarks for contamination.",
    "board_stamps": "How many scores each leaderboard ranks under each stamp, kept up to date as scores are "
                    "recorded; a board left to choose its stamp takes the most common one from here.",
    "evaluation_requests": "The platform's evaluation queue: one row per run that ended with an adapter, "
                           "written with its outcome and claimed by an evaluation worker under a lease.",
}

COLUMN_MEANING: dict[str, dict[str, str]] = {
    "users": {
        "id": "Primary key.",
        "username": "Login name; the only user detail included in exports.",
        "role": "casual, developer, educator, researcher or admin.",
        "display_name": "Optional display name (never exported).",
        "created_at": "When the account was created (UTC).",
    },
    "base_models": {
        "id": "Primary key.",
        "key": "Catalog key, e.g. `llama3-standin`.",
        "family": "Model family: llama3, mistral, phi3, qwen2...",
        "hf_id": "The real Hugging Face id of the family's model.",
        "architecture": "transformers architecture class, e.g. `LlamaForCausalLM`.",
        "licence": "Licence of the base model.",
        "parameters": "Number of parameters.",
        "is_standin": "True for a tiny offline stand-in of the family's architecture.",
        "info": "JSON: extra catalog details.",
        "benchmark_scores": "JSON: the base model's own scores, same shape as `models.benchmark_scores`.",
        "created_at": "When the row was created (UTC).",
    },
    "datasets": {
        "id": "Primary key.",
        "owner_id": "FK users.id of the uploader; NULL for platform datasets.",
        "name": "Name given by the owner.",
        "fingerprint": "sha256 of the normalised dataset: equal fingerprints mean equal data.",
        "format": "text, instruction, prompt_completion or chat.",
        "source": "Where it came from (upload, Hugging Face id, local path).",
        "n_rows": "Number of rows.",
        "stats": "JSON: rows, tokens, length histogram.",
        "archive_hash": "sha256 of the archived upload.",
        "parent_dataset_id": "FK datasets.id this dataset was derived from (filtered, extended...).",
        "licence": "Licence the uploader declared.",
        "tainted": "Reason the dataset was tainted (contamination, licence); NULL when clean. Marks every model trained on it or its descendants.",
        "created_at": "When it was registered (UTC).",
    },
    "models": {
        "id": "Primary key: one training attempt.",
        "slug": "Stable URL name.",
        "name": "Name the owner gave the model.",
        "description": "Free text from the owner.",
        "owner_id": "FK users.id.",
        "domain": "The domain the model was fine-tuned for (math, code, general, reasoning, translation, reading...).",
        "base_model_id": "FK base_models.id the adapter was trained on.",
        "dataset_id": "FK datasets.id of the training data.",
        "dataset_fingerprint": "sha256 of the training data at training time.",
        "parent_model_id": "Critical field. NULL when trained from a base model; FK models.id when forked, continued or resumed. Set only by the platform's fork path.",
        "training_outcome": "Critical field. success, failure or partial; NULL only while running.",
        "loss_curve_data": 'Critical field. JSON list of every logged point `{step, epoch, loss, lr, grad_norm, eval_loss?}`, materialised when the run ends (also for killed runs). NaN/inf are stored as the strings "nan", "inf", "-inf".',
        "benchmark_scores": "Critical field. JSON `{domain: {task: {metric, value, stderr, n, status, stamp, stamp_hash, delta_base, delta_parent, executed_by}}}`: every task ever run, never pruned.",
        "parent_relation": "fork, continue or resume; NULL without a parent.",
        "config": "JSON: the full training configuration (TrainSpec).",
        "status": "queued, running or finished.",
        "failure_class": "divergence, oom, exception:<type>, lost, time_budget, cancelled...; NULL for successes.",
        "failure_message": "The failure in plain words.",
        "created_at": "When the row was created (UTC).",
        "started_at": "When training started (UTC).",
        "finished_at": "When the outcome was recorded (UTC); for lost runs, the last heartbeat.",
        "heartbeat_at": "Last sign of life while running (UTC).",
        "duration_s": "Seconds from start to finish.",
        "hardware": "JSON: device kind (cpu/cuda) and index, GPU name, memory, training precision (fp32/bf16/fp16).",
        "versions": "JSON: library versions (torch, transformers, peft...).",
        "seed": "Random seed.",
        "visibility": "public, unlisted or private.",
        "artifacts": "JSON: artifact name → sha256 in the archive (adapter, merged model, executed notebook...).",
        "executed_by": "platform (scheduled job) or user (developer kernel); leaderboards use platform runs only.",
        "template": "Notebook template the run came from, if any.",
        "template_version": "Version of that template.",
        "evaluated_at": "When the platform's evaluation worker recorded the model's scores (UTC).",
    },
    "loss_points": {
        "id": "Primary key.",
        "model_id": "FK models.id.",
        "seq": "Order of logging within the run (0, 1, 2...); unique per model.",
        "step": "Optimizer step.",
        "epoch": "Epoch (fractional).",
        "loss": "Training loss; NULL when non-finite (see `nonfinite`).",
        "lr": "Learning rate.",
        "grad_norm": "Gradient norm.",
        "eval_loss": "Evaluation loss when an evaluation ran at this step.",
        "nonfinite": 'JSON naming the fields whose value was NaN/inf, e.g. `{"loss": "nan"}`; JSON null when all finite.',
        "logged_at": "When the point was written (UTC).",
    },
    "evaluations": {
        "id": "Primary key.",
        "model_id": "FK models.id scored; NULL for a base model's baseline.",
        "base_model_id": "FK base_models.id for a baseline; NULL for a model's score.",
        "domain": "Benchmark domain.",
        "task": "Benchmark task (e.g. gsm8k, humaneval, mmlu, or a micro-world suite).",
        "metric": "Metric name (acc, exact_match, pass@1...).",
        "value": "The score; NULL when skipped, refused or failed.",
        "stderr": "Standard error reported by the harness.",
        "n_samples": "Number of samples scored.",
        "status": "scored, skipped, refused or error.",
        "skip_reason": "Why it was not scored.",
        "stamp": "JSON reproducibility stamp: suite, harness and task version, shots, batch size, chat template, limit, device kind and dtype.",
        "stamp_hash": "sha256 of the stamp: scores compare only under equal stamps.",
        "delta_base": "value minus the base model's value under the same stamp.",
        "delta_parent": "value minus the parent model's value under the same stamp.",
        "executed_by": "platform or user; only platform scores reach leaderboards.",
        "is_current": "False once the same task was re-run on the same model under the same stamp.",
        "created_at": "When the score was recorded (UTC).",
    },
    "feedback": {
        "id": "Primary key.",
        "model_id": "FK models.id.",
        "user_id": "FK users.id of the voter.",
        "thumbs_up": "True for thumbs up, False for thumbs down.",
        "comment": "Optional comment.",
        "created_at": "First vote (UTC).",
        "updated_at": "Last change (UTC).",
    },
    "jobs": {
        "id": "Primary key.",
        "owner_id": "FK users.id who submitted it.",
        "kind": "train, evaluate, template...",
        "notebook": "The parameterised notebook executed.",
        "parameters": "JSON: notebook parameters.",
        "resources": "JSON: requested CPUs, GPUs, memory.",
        "executor": "local or ray.",
        "external_id": "The executor's id (e.g. a Ray job id).",
        "state": "queued, running, succeeded, failed, cancelled or lost.",
        "model_id": "FK models.id the job produced or evaluated.",
        "error": "Error text when it failed.",
        "log_path": "Where its log is kept.",
        "created_at": "Submitted (UTC).",
        "started_at": "Started (UTC).",
        "finished_at": "Ended (UTC).",
        "heartbeat_at": "Last sign of life (UTC).",
    },
    "notebook_runs": {
        "id": "Primary key.",
        "job_id": "FK jobs.id.",
        "model_id": "FK models.id.",
        "notebook": "Notebook path or template name.",
        "parameters": "JSON: parameters it ran with.",
        "archive_hash": "sha256 of the executed notebook in the archive.",
        "succeeded": "True when every cell ran.",
        "template": "Template name, if any.",
        "template_version": "Template version.",
        "rerun_of": "FK notebook_runs.id this run repeats.",
        "created_at": "When it ran (UTC).",
    },
    "events": {
        "id": "Primary key.",
        "model_id": "FK models.id; NULL for events about other objects (e.g. a dataset taint).",
        "kind": "early_stop, divergence, oom, cancel, resume, fork, continue, publish, visibility, finish, taint, "
                "evaluation_queued / _started / _finished / _failed...",
        "payload": "JSON details of the event.",
        "actor_id": "FK users.id who caused it; NULL for the platform.",
        "created_at": "When it happened (UTC).",
    },
    "capability_flags": {
        "id": "Primary key.",
        "model_id": "FK models.id flagged.",
        "domain": "The domain whose score changed (outside the model's own domain).",
        "task": "The task whose score changed.",
        "reference": "base, parent or peers: what the score was compared with.",
        "delta": "Score change against the reference.",
        "relative": "delta divided by the reference score.",
        "z": "Two-sample z statistic from the stored standard errors.",
        "p_value": "Two-sided p-value of z.",
        "q_value": "Benjamini-Hochberg adjusted p-value over the model's domains.",
        "peer_percentile": "Percentile of the score among peers fine-tuned for the same domain.",
        "sentence": "The finding in plain words.",
        "created_at": "When detection ran (UTC).",
    },
    "dataset_items": {
        "dataset_id": "FK datasets.id.",
        "item_hash": "sha256 of one normalised training item.",
    },
    "board_stamps": {
        "domain": "The board's domain (part of the primary key).",
        "task": "The task it ranks (part of the primary key).",
        "stamp_hash": "The stamp (evaluations.stamp_hash; part of the primary key).",
        "suite": "The suite the stamp names (offline for stamps from before stamps named one).",
        "scores": "Current, scored, platform-run evaluations of models under this stamp: what the board ranks, "
                  "private models included.",
    },
    "evaluation_requests": {
        "id": "Primary key.",
        "model_id": "FK models.id to score (one request per model).",
        "state": "queued, running (a worker holds the lease), done (scores recorded) or failed (given up).",
        "attempts": "How many times a worker claimed it; more than one means a worker died or failed.",
        "worker": "The worker (host:pid) that claimed it last.",
        "lease_token": "Secret of the current claim; only its holder may record the scores.",
        "lease_expires_at": "When another worker may take it over unless the holder renews (UTC).",
        "error": "Why the last attempt failed, if it did.",
        "created_at": "When the run ended and asked for its scores (UTC).",
        "claimed_at": "When a worker last claimed it (UTC).",
        "finished_at": "When its scores were recorded or it was given up (UTC).",
    },
}


@dataclass(frozen=True)
class ColumnEntry:
    table: str
    column: str
    type: str
    nullable: bool
    key: str  # "PK", "FK → table.column", or ""
    meaning: str


def _type_name(column: Column) -> str:
    kind = column.type
    if isinstance(kind, Enum):
        return "enum(" + ", ".join(kind.enums) + ")"
    if isinstance(kind, JSON):
        return "JSON (JSONB on PostgreSQL)"
    if isinstance(kind, DateTime):
        return "timestamp (UTC)"
    if isinstance(kind, String) and not isinstance(kind, Text):
        return f"varchar({kind.length})"
    return type(kind).__name__.lower()


def _key(column: Column) -> str:
    if column.primary_key:
        return "PK"
    fks = [f"FK → {fk.column.table.name}.{fk.column.name}" for fk in column.foreign_keys]
    return ", ".join(fks)


def data_dictionary() -> list[ColumnEntry]:
    """Every column of every table, in schema order, with type, key and meaning."""
    order = list(TABLE_PURPOSE)
    tables = sorted(Base.metadata.sorted_tables,
                    key=lambda t: (order.index(t.name) if t.name in order else len(order), t.name))
    entries = []
    for table in tables:
        meanings = COLUMN_MEANING.get(table.name, {})
        for column in table.columns:
            entries.append(ColumnEntry(table=table.name, column=column.name, type=_type_name(column),
                                       nullable=bool(column.nullable), key=_key(column),
                                       meaning=meanings.get(column.name, "")))
    return entries


def undocumented() -> list[str]:
    """``table.column`` names the models have but the dictionary does not explain (or explains but lacks)."""
    have = {(e.table, e.column) for e in data_dictionary()}
    missing = [f"{t}.{c}" for t, c in sorted(have) if not COLUMN_MEANING.get(t, {}).get(c)]
    stale = [f"{t}.{c}" for t, cols in COLUMN_MEANING.items() for c in cols if (t, c) not in have]
    missing += [f"{t} (table)" for t in {t for t, _ in have} if t not in TABLE_PURPOSE]
    return missing + [f"{s} (no longer in the schema)" for s in stale]


EXAMPLES: list[tuple[str, str]] = [
    ("Connect (the same code on SQLite and PostgreSQL)", '''\
import json

import pandas as pd
from sqlalchemy import text

from hubkit.config import load_settings
from hubkit.db import get_engine

engine = get_engine(load_settings().database_url)  # HUBKIT_DB_URL, or the SQLite file under HUBKIT_HOME'''),
    ("Every attempt and how it ended, failures included", '''\
attempts = pd.read_sql("select id, domain, training_outcome, failure_class, duration_s from models", engine)
attempts.groupby("training_outcome", dropna=False).size()'''),
    ("Failure rate by base-model family", '''\
by_family = pd.read_sql(text("""
    select b.family,
           count(*) as runs,
           sum(case when m.training_outcome = 'failure' then 1 else 0 end) as failures
    from models m join base_models b on b.id = m.base_model_id
    where m.status = 'finished'
    group by b.family order by b.family"""), engine)
by_family["failure_rate"] = by_family["failures"] / by_family["runs"]'''),
    ("Scores in long form, with the change against the base model", '''\
scores = pd.read_sql(text("""
    select m.slug, m.domain as trained_for, e.domain, e.task, e.metric, e.value, e.stderr,
           e.n_samples, e.delta_base, e.stamp_hash
    from evaluations e join models m on m.id = e.model_id
    where e.is_current = :current and e.status = 'scored'"""), engine, params={"current": True})
off_target = scores[scores["domain"] != scores["trained_for"]]'''),
    ("A model's ancestry (recursive query over parent_model_id)", '''\
newest_fork = pd.read_sql("select max(id) as id from models where parent_model_id is not null", engine)["id"][0]
ancestry = pd.read_sql(text("""
    with recursive chain(id, parent_model_id, depth) as (
        select id, parent_model_id, 0 from models where id = :model_id
        union all
        select m.id, m.parent_model_id, chain.depth + 1 from models m join chain on m.id = chain.parent_model_id)
    select chain.depth, models.slug, models.parent_relation, models.training_outcome
    from chain join models on models.id = chain.id order by chain.depth"""),
    engine, params={"model_id": int(newest_fork)})'''),
    ("One training curve from the append-only points table", '''\
curve = pd.read_sql(text("select step, loss, eval_loss, nonfinite from loss_points "
                         "where model_id = :model_id order by seq"), engine, params={"model_id": int(newest_fork)})'''),
    ("Configuration keys as columns (JSON arrives as text on SQLite, parsed on PostgreSQL)", '''\
configs = pd.read_sql("select id, config from models", engine)
parsed = configs["config"].map(lambda c: json.loads(c) if isinstance(c, str) else c)
knobs = pd.json_normalize(parsed.tolist()).set_index(configs["id"])'''),
    ("The same, ready-made: one typed row per attempt", '''\
from hubkit import research

frame = research.runs()  # config.<key> and score.<domain>.<task> columns
frame[["model_id", "training_outcome", "failure_class"]].head()'''),
]


def render_markdown() -> str:
    """docs/schema.md: tables, columns and runnable ``pd.read_sql`` examples."""
    by_table: dict[str, list[ColumnEntry]] = {}
    for entry in data_dictionary():
        by_table.setdefault(entry.table, []).append(entry)
    lines = [
        "# Run database schema",
        "",
        ("<!-- Generated by hubkit.research.dictionary.render_markdown(); "
         "regenerate with `hubkit research schema > docs/schema.md`. -->"),
        "",
        "The run database holds one row in `models` for every training attempt, failed and killed",
        "ones included, with its configuration, curve, scores and lineage. The same schema runs on",
        "SQLite (the embedded default) and PostgreSQL (JSON columns are JSONB there). Every timestamp",
        "is UTC. Non-finite numbers in JSON are the strings `\"nan\"`, `\"inf\"` and `\"-inf\"`.",
        "",
        "Ready-made DataFrames: `hubkit.research.runs()`, `scores()`, `curves()`, `lineage()`",
        "(see docs/research.md). Below, every table and column, then plain `pd.read_sql` examples",
        "(a test runs each of them on both backends).",
        "",
        "## Tables",
        "",
    ]
    for name in by_table:
        lines.append(f"- [`{name}`](#{name}): {TABLE_PURPOSE.get(name, '')}")
    for name, entries in by_table.items():
        lines += ["", f"## {name}", "", TABLE_PURPOSE.get(name, ""), "",
                  "| column | type | null | key | meaning |", "|---|---|---|---|---|"]
        for e in entries:
            meaning = e.meaning.replace("|", "\\|")
            lines.append(f"| `{e.column}` | {e.type} | {'yes' if e.nullable else 'no'} | {e.key} | {meaning} |")
    lines += ["", "## Examples with pandas", "",
              "Each block continues from the ones before it."]
    for title, code in EXAMPLES:
        lines += ["", f"### {title}", "", "```python", code, "```"]
    return "\n".join(lines) + "\n"
