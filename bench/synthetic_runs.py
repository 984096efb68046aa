"""Synthetic run databases for the benchmarks: realistic shape, known size.

Bulk-loads test data through the database driver (executemany on SQLite, COPY
on PostgreSQL): this is benchmark input, not the platform's write path, which
is always the Store. Everything derives from one seed, so two backends hold the
same data.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.engine import make_url

from hubkit.db import get_engine, upgrade

DOMAINS = ("math", "code", "general", "reasoning", "translation", "reading", "summarization", "dialogue")
TASKS = {"math": "gsm8k", "code": "humaneval", "general": "mmlu", "reasoning": "mw_reasoning",
         "translation": "mw_translation", "reading": "mw_reading", "summarization": "mw_summarization",
         "dialogue": "mw_dialogue"}
FAMILIES = {"llama3": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "phi3": "Phi3ForCausalLM",
            "qwen2": "Qwen2ForCausalLM"}
STANDARD_TASKS = {"gsm8k", "humaneval", "mmlu"}
# Stamp variants and their shares of the models scored: most under the current harness on a CPU,
# the rest under older harness or task versions, or on a GPU in bf16. Each is a separate stamp of
# every board, so a board has five stamps and the store has to choose among them.
STAMP_VARIANTS = (
    ({"harness_version": "0.4.13", "task_version": 1, "device": "cpu", "dtype": "float32"}, 0.70),
    ({"harness_version": "0.4.13", "task_version": 1, "device": "cuda", "dtype": "bfloat16"}, 0.10),
    ({"harness_version": "0.4.12", "task_version": 1, "device": "cpu", "dtype": "float32"}, 0.10),
    ({"harness_version": "0.4.11", "task_version": 1, "device": "cpu", "dtype": "float32"}, 0.05),
    ({"harness_version": "0.4.11", "task_version": 0, "device": "cpu", "dtype": "float32"}, 0.05),
)


def stamp_of(task: str, variant: int) -> dict:
    """The stamp of one task's score under one variant, shaped like hubkit.evaluate.stamps.build_stamp's."""
    return {"harness": "lm-evaluation-harness", "suite": "standard" if task in STANDARD_TASKS else "offline",
            "task": task, "num_fewshot": 0, "batch_size": 8, "chat_template": True, "limit": 500,
            **STAMP_VARIANTS[variant][0]}


def _hash(stamp: dict) -> str:
    return hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()


STAMPS = {(task, i): (json.dumps(stamp_of(task, i)), _hash(stamp_of(task, i)))
          for task in TASKS.values() for i in range(len(STAMP_VARIANTS))}
MESSAGES = {
    "divergence": "Training diverged: the loss became NaN.", "oom": "Training ran out of memory.",
    "exception": "Training stopped with an error: ValueError: tokenizer returned no tokens",
    "lost": "No heartbeat; the process running it died or was killed.",
    "early_stop_no_improvement": "Training stopped early: the loss on held-back data never improved in 3 checks.",
    "time_budget": "The time budget ran out.", "cancelled": "Training was cancelled.",
}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Synthetic:
    n_runs: int
    n_evaluations: int
    n_points: int
    deep_chain: list[int]  # model ids of one long fork chain, root first


def _dt(x: datetime) -> str:
    return x.strftime("%Y-%m-%d %H:%M:%S.%f")


def _config(rng: np.random.Generator, *, base: str, domain: str, dataset_id: int, name: str, lr: float, r: int,
            batch: int, seq: int) -> dict:
    """A resolved TrainSpec as the trainer stores it (``spec.model_dump(mode="json")``)."""
    return {
        "base_model": base, "domain": domain, "name": name, "description": "", "visibility": "public",
        "dataset": {"dataset_id": dataset_id, "path": None, "example": None, "example_rows": 200,
                    "format": str(rng.choice(["instruction", "chat", "text", "prompt_completion"])),
                    "columns": {}, "name": None},
        "lora_r": r, "lora_alpha": float(2 * r), "lora_dropout": float(rng.choice([0.0, 0.05, 0.1])),
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"][: int(rng.integers(2, 5))],
        "target_mlp": bool(rng.random() < 0.3), "lora_bias": "none", "use_rslora": bool(rng.random() < 0.2),
        "use_dora": bool(rng.random() < 0.1), "learning_rate": lr,
        "lr_scheduler": str(rng.choice(["linear", "cosine", "constant"])),
        "warmup_ratio": float(rng.choice([0.0, 0.03, 0.1])), "warmup_steps": 0,
        "num_epochs": float(rng.integers(1, 5)), "max_steps": None, "batch_size": batch,
        "gradient_accumulation": int(rng.choice([1, 2, 4, 8])), "max_seq_len": seq,
        "packing": bool(rng.random() < 0.3), "weight_decay": float(rng.choice([0.0, 0.01])), "max_grad_norm": 1.0,
        "optimizer": str(rng.choice(["adamw_torch", "adafactor", "sgd"])), "seed": int(rng.integers(0, 10_000)),
        "validation_fraction": 0.1, "eval_interval": int(rng.choice([10, 25, 50])),
        "early_stopping_patience": int(rng.choice([0, 3, 5])), "early_stopping_threshold": 0.0,
        "divergence_factor": 4.0, "time_budget_s": float(rng.choice([600, 1800, 3600])),
        "checkpoint_interval": 100, "logging_steps": 10, "precision": str(rng.choice(["fp32", "bf16"])),
        "gradient_checkpointing": bool(rng.random() < 0.4), "merge_after": False,
    }


def _curve(rng: np.random.Generator, n: int, lr: float, diverged: bool) -> list[dict]:
    start, floor = 2.5 + rng.random(), 0.6 + rng.random() * 0.6
    steps = np.arange(1, n + 1)
    loss = floor + (start - floor) * np.exp(-steps / (n / 4)) + rng.normal(0, 0.03, n)
    eval_gap = rng.random() * 0.3
    points = []
    for i in range(n):
        value: float | str = round(float(loss[i]), 5)
        if diverged and i >= n - 5:
            value = "nan" if i == n - 1 else round(float(loss[i]) * 10 ** (i - n + 6), 3)
        point = {"step": int(steps[i]) * 10, "epoch": round(i / n * 3, 4), "loss": value,
                 "lr": lr, "grad_norm": round(float(abs(rng.normal(1.0, 0.3))), 4)}
        if i % 10 == 9:
            point["eval_loss"] = round(float(loss[i]) + eval_gap, 5)
        points.append(point)
    return points


def generate(n_runs: int, *, seed: int = 0, points: int = 100, deep_chain: int = 500) -> Iterator[tuple[str, list[tuple]]]:
    """Yield (table, rows) batches in insertion order; the first batches are users, bases, datasets."""
    rng = np.random.default_rng(seed)
    # The stamps draw from their own generator, so every other value is what it was with one stamp.
    stamp_rng = np.random.default_rng(seed + 1)
    shares = np.array([share for _, share in STAMP_VARIANTS])
    n_users, n_datasets = max(10, n_runs // 50), max(10, n_runs // 20)
    yield "users", [(i + 1, f"user{i:05d}", "developer" if i % 5 else "casual", None, _dt(T0)) for i in range(n_users)]
    bases = []
    for i, (family, arch) in enumerate(FAMILIES.items()):
        for j, standin in enumerate((True, False)):
            bases.append((2 * i + j + 1, f"{family}-{'standin' if standin else 'real'}", family, f"org/{family}",
                          arch, "open", 8_000_000_000, standin, "{}", "{}", _dt(T0)))
    yield "base_models", bases
    base_quality = {b[0]: 0.25 + 0.05 * (b[0] % 4) for b in bases}
    base_evals = []
    eval_id = 0
    for b in bases:
        for d in DOMAINS:
            for variant in range(len(STAMP_VARIANTS)):
                eval_id += 1
                v = base_quality[b[0]]
                stamp, digest = STAMPS[TASKS[d], variant]
                base_evals.append((eval_id, None, b[0], d, TASKS[d], "acc", v, math.sqrt(v * (1 - v) / 500), 500,
                                   "scored", None, stamp, digest, None, None, "platform", True, _dt(T0)))
    yield "evaluations", base_evals
    rows = np.exp(rng.uniform(math.log(50), math.log(200_000), n_datasets)).astype(int)
    datasets = [(i + 1, int(rng.integers(1, n_users + 1)), f"dataset {i}", hashlib.sha256(b"d%d" % i).hexdigest(),
                 "instruction", None, int(rows[i]), "{}", None,
                 int(rng.integers(1, i + 1)) if i and rng.random() < 0.2 else None, "cc-by-4.0", None, _dt(T0))
                for i in range(n_datasets)]
    yield "datasets", datasets

    lr_choices = np.array([1e-5, 3e-5, 1e-4, 2e-4, 5e-4, 1e-3, 3e-3, 1e-2])
    rank_choices = np.array([4, 8, 16, 32, 64, 128])
    values: dict[int, dict[str, float]] = {}  # observed scores of successful runs
    variant_of: dict[int, int] = {}  # the stamp variant a successful run was scored under
    ranked: Counter[tuple[str, str, str, str]] = Counter()  # board_stamps: (domain, task, stamp, suite) -> scores
    truth: dict[int, dict[str, float]] = {}  # true accuracies (what a perfect benchmark would say)
    base_of: dict[int, int] = {}
    domain_of: dict[int, str] = {}
    chain_start = n_runs // 2
    chain = list(range(chain_start, chain_start + min(deep_chain, n_runs // 4)))
    batch_models: list[tuple] = []
    batch_evals: list[tuple] = []
    batch_points: list[tuple] = []
    point_id = 0
    for mid in range(1, n_runs + 1):
        domain = DOMAINS[int(rng.integers(0, len(DOMAINS)))]
        base_id = int(rng.integers(1, len(bases) + 1))
        lr = float(lr_choices[int(rng.integers(0, len(lr_choices)))])
        r = int(rank_choices[int(rng.integers(0, len(rank_choices)))])
        batch, seq = int(rng.choice([1, 2, 4, 8, 16])), int(rng.choice([256, 512, 1024, 2048]))
        parent = None
        if mid in chain[1:]:
            parent = mid - 1
        elif mid > 10 and rng.random() < 0.2:
            parent = int(rng.integers(1, mid))
        if parent is not None:  # a fork keeps its parent's base model, as the store does
            base_id = base_of[parent]
            if parent in chain or rng.random() < 0.95:  # most forks go on in their parent's domain
                domain = domain_of[parent]
        base_of[mid] = base_id
        domain_of[mid] = domain
        # Outcome depends on the configuration, so the museum has a boundary to find.
        p_div = 0.02 + 0.5 * (lr >= 3e-3) + 0.2 * (lr >= 1e-3)
        p_oom = 0.01 + 0.25 * (r >= 128 and batch * seq >= 8192)
        u = rng.random()
        if u < p_div:
            outcome, fclass = "failure", "divergence"
        elif u < p_div + p_oom:
            outcome, fclass = "failure", "oom"
        elif u < p_div + p_oom + 0.03:
            outcome, fclass = "failure", str(rng.choice(["exception", "lost", "early_stop_no_improvement"]))
        elif u < p_div + p_oom + 0.08:
            outcome, fclass = "partial", str(rng.choice(["time_budget", "cancelled"]))
        else:
            outcome, fclass = "success", None
        if mid in chain:
            outcome, fclass = "success", None
        n_pts = points if outcome == "success" else int(rng.integers(5, points + 1))
        curve = _curve(rng, n_pts, lr, fclass == "divergence")
        created = T0 + timedelta(minutes=mid)
        duration = float(rng.uniform(60, 3600))
        visibility = str(rng.choice(["public", "unlisted", "private"], p=[0.6, 0.1, 0.3]))
        scores: dict[str, dict] = {}
        if outcome == "success":
            # True change: the intended gain on the model's own domain (best near lr 2e-4), inherited
            # from the parent for forks, plus, for 3% of models, a real transfer to one other domain.
            own_gain = (0.05 + 0.3 * math.exp(-abs(math.log10(lr) + 3.7))) * (0.3 if parent else 1.0)
            base_v = base_quality[base_id]
            true = dict(truth[parent]) if parent in truth else {d: base_v for d in DOMAINS}
            true[domain] = min(true[domain] + own_gain, 0.95)
            if rng.random() < 0.03:
                other = DOMAINS[int(rng.integers(0, len(DOMAINS)))]
                if other != domain:
                    true[other] = min(true[other] + 0.08, 0.95)
            truth[mid] = true
            values[mid] = {}
            variant = variant_of[mid] = int(stamp_rng.choice(len(shares), p=shares))
            for d in DOMAINS:
                v = true[d] + rng.normal(0, math.sqrt(true[d] * (1 - true[d]) / 500))
                v = float(min(max(v, 0.0), 1.0))
                values[mid][d] = v
                n = 500
                se = math.sqrt(max(v * (1 - v), 1e-4) / n)
                delta_base = v - base_v
                # a delta needs the other score under the same stamp (every base has every variant)
                delta_parent = (v - values[parent][d] if parent in values and variant_of[parent] == variant
                                else None)
                stamp, digest = STAMPS[TASKS[d], variant]
                ranked[d, TASKS[d], digest, stamp_of(TASKS[d], variant)["suite"]] += 1
                eval_id += 1
                batch_evals.append((eval_id, mid, None, d, TASKS[d], "acc", v, se, n, "scored", None,
                                    stamp, digest, delta_base, delta_parent, "platform", True,
                                    _dt(created + timedelta(seconds=duration + 60))))
                scores[d] = {TASKS[d]: {"metric": "acc", "value": v, "stderr": se, "n": n, "status": "scored",
                                        "skip_reason": None, "stamp": json.loads(stamp), "stamp_hash": digest,
                                        "delta_base": delta_base, "delta_parent": delta_parent,
                                        "executed_by": "platform"}}
        finished = created + timedelta(seconds=duration)
        dataset_id = int(rng.integers(1, n_datasets + 1))
        config = _config(rng, base=bases[base_id - 1][1], domain=domain, dataset_id=dataset_id, name=f"run {mid}",
                         lr=lr, r=r, batch=batch, seq=seq)
        batch_models.append((
            mid, f"run-{mid}", f"run {mid}", None, int(rng.integers(1, n_users + 1)), domain, base_id,
            dataset_id, None, parent, outcome, json.dumps(curve), json.dumps(scores),
            "fork" if parent else None, json.dumps(config), "finished", fclass,
            None if fclass is None else MESSAGES[fclass], _dt(created), _dt(created), _dt(finished),
            _dt(finished), duration, '{"device": "cpu"}', '{"torch": "2.13.0"}', int(rng.integers(0, 10_000)),
            visibility, '{}', "platform" if rng.random() < 0.9 else "user", None, None,
            _dt(finished) if scores else None))
        for seq_no, p in enumerate(curve):
            point_id += 1
            loss = p["loss"]
            nonfinite = json.dumps({"loss": loss}) if isinstance(loss, str) else "null"
            batch_points.append((point_id, mid, seq_no, p["step"], p["epoch"],
                                 None if isinstance(loss, str) else loss, p["lr"], p["grad_norm"],
                                 p.get("eval_loss"), nonfinite, _dt(created)))
        if len(batch_models) >= 5_000 or mid == n_runs:
            yield "models", batch_models
            yield "evaluations", batch_evals
            yield "loss_points", batch_points
            batch_models, batch_evals, batch_points = [], [], []
    # What the store keeps as it records scores, here counted from what was generated.
    yield "board_stamps", [(d, t, h, suite, n) for (d, t, h, suite), n in sorted(ranked.items())]
    yield "_chain", [tuple(chain)]


COLUMNS = {
    "users": "id, username, role, display_name, created_at",
    "base_models": "id, key, family, hf_id, architecture, licence, parameters, is_standin, info, benchmark_scores, created_at",
    "datasets": "id, owner_id, name, fingerprint, format, source, n_rows, stats, archive_hash, parent_dataset_id, "
                "licence, tainted, created_at",
    "models": "id, slug, name, description, owner_id, domain, base_model_id, dataset_id, dataset_fingerprint, "
              "parent_model_id, training_outcome, loss_curve_data, benchmark_scores, parent_relation, config, status, "
              "failure_class, failure_message, created_at, started_at, finished_at, heartbeat_at, duration_s, hardware, "
              "versions, seed, visibility, artifacts, executed_by, template, template_version, evaluated_at",
    "evaluations": "id, model_id, base_model_id, domain, task, metric, value, stderr, n_samples, status, skip_reason, "
                   "stamp, stamp_hash, delta_base, delta_parent, executed_by, is_current, created_at",
    "board_stamps": "domain, task, stamp_hash, suite, scores",
    "loss_points": "id, model_id, seq, step, epoch, loss, lr, grad_norm, eval_loss, nonfinite, logged_at",
}


def populate(url: str, n_runs: int, *, seed: int = 0, points: int = 100, progress=None) -> Synthetic:  # type: ignore[no-untyped-def]
    """Create the schema at ``url`` and load ``n_runs`` synthetic runs into it."""
    upgrade(url)
    engine = get_engine(url)
    postgres = make_url(url).get_backend_name() == "postgresql"
    counts = {"models": 0, "evaluations": 0, "loss_points": 0}
    chain: list[int] = []
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, rows in generate(n_runs, seed=seed, points=points):
            if table == "_chain":
                chain = list(rows[0])
                continue
            if not rows:
                continue
            cols = COLUMNS[table]
            if postgres:
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                raw.commit()
            else:  # the engine leaves transactions to us on SQLite
                marks = ",".join("?" * len(cols.split(",")))
                cur.execute("BEGIN")
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
                cur.execute("COMMIT")
            if table in counts:
                counts[table] += len(rows)
            if progress is not None and table == "models":
                progress(len(rows))
        if postgres:
            for table in ("users", "base_models", "datasets", "models", "evaluations", "loss_points"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            raw.commit()
        if postgres:  # VACUUM also sets the visibility map, as autovacuum would after a bulk load, so
            # that index-only scans (the leaderboard's covering index) need no heap visits
            raw.commit()
            raw.driver_connection.autocommit = True
            cur.execute("VACUUM (ANALYZE)")
            raw.driver_connection.autocommit = False
        else:
            cur.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
    return Synthetic(n_runs=counts["models"], n_evaluations=counts["evaluations"], n_points=counts["loss_points"],
                     deep_chain=chain)
