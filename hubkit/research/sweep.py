"""The designed sweep: real stand-in trainings over the whole knob space, the advisor's ground truth.

The design is a seeded stream of points: point ``i`` of seed ``s`` is drawn
from its own generator ``default_rng([s, i])``, so asking for more points
later keeps the first ones unchanged and a sweep can grow. Each point is a
complete ``TrainSpec`` (learning rate log-uniform over 1e-5…1e2, LoRA rank
1…64, alpha, dropout, target modules, steps, data size, every base, every
domain) and is keyed by the sha256 of that spec, so a point is recognised in
the run database whichever process trained it.

A point is trained as the platform's training notebook job, then scored in
every domain by the evaluation notebook job with a per-task item limit.
Failures are data: a diverged run is kept, with whatever scores its last
adapter earns. Only a run cut short by the sweep itself (lost, cancelled) is
trained again; a finished point is never repeated.

Held-out share: the datasets are the micro-world's example data, one per
(domain, data seed) — runs with more rows of the same seed share items — so
the held-out mark is set per (domain, data seed) group, and no item of a
held-out dataset is ever in the training share.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hubkit.errors import ValidationError
from hubkit.store import Store

OWNER = "sweep"
NAME_PREFIX = "sweep "
DEFAULT_SEED = 19
DEFAULT_EVAL_LIMIT = 12
DATA_SEEDS = 8
HELD_OUT_SHARE = 0.25
TARGET_CHOICES = ("attention_qv", "attention", "all_linear")
LR_RANGE = (1e-5, 1e2)
RANK_RANGE = (1, 64)
STEPS_RANGE = (4, 48)
ROWS_RANGE = (16, 256)
ALPHA_RATIO_RANGE = (0.5, 8.0)
TIME_BUDGET_S = 240.0
RETRAIN_CLASSES = frozenset({"lost", "cancelled"})
"""Failure classes caused by the sweep being interrupted, not by the configuration."""


def bases() -> list[str]:
    from hubkit.catalog import FAMILIES

    return sorted(FAMILIES[name].standin_key for name in FAMILIES)


def domains() -> list[str]:
    from hubkit.evaluate import DOMAINS

    return sorted(DOMAINS)


def targets_for(base_model: str, choice: str) -> list[str]:
    """The layer names a target-module choice means in this base's family."""
    from hubkit.catalog import resolve

    family = resolve(base_model)[0]
    if choice == "all_linear":
        return list(family.lora_targets_all)
    if choice == "attention":
        return list(family.lora_targets)
    if choice == "attention_qv":
        wanted = [t for t in family.lora_targets if t in ("q_proj", "v_proj", "qkv_proj")]
        return wanted or list(family.lora_targets[:1])
    raise ValidationError(f"Unknown target-module choice {choice!r}; choose one of {', '.join(TARGET_CHOICES)}.",
                          field="targets")


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def _log_int(rng: np.random.Generator, low: int, high: int) -> int:
    return int(min(high, max(low, round(_log_uniform(rng, low, high + 0.4999)))))


def dataset_group(domain: str, data_seed: int) -> str:
    return f"{domain}/seed{data_seed}"


def is_held_out(group: str, *, share: float = HELD_OUT_SHARE) -> bool:
    """A stable, seed-free mark: the same dataset group is held out in every sweep and export."""
    digest = hashlib.sha256(f"heldout:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def point_key(spec: dict[str, Any]) -> str:
    """The identity of a point: sha256 of its spec (without the name, which is derived from the key)."""
    body = {k: v for k, v in spec.items() if k not in ("name", "description")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SweepPoint:
    index: int
    key: str
    spec: dict[str, Any]
    group: str
    held_out: bool
    knobs: dict[str, Any] = field(default_factory=dict)
    """The drawn values (targets as a choice name, alpha as a ratio) for tables and plots."""

    @property
    def run_name(self) -> str:
        return NAME_PREFIX + self.key


def make_spec(*, base_model: str, domain: str, learning_rate: float, lora_r: int, lora_alpha: float,
              lora_dropout: float, targets: str, max_steps: int, example_rows: int, data_seed: int) -> dict[str, Any]:
    """A sweep point's full spec: the drawn knobs over fixed, cheap settings (one small batch size, short
    sequences, an evaluation on held-back rows at the end, a time budget as a guard)."""
    return {
        "base_model": base_model, "domain": domain, "visibility": "public",
        "dataset": {"example": domain, "example_rows": example_rows},
        "learning_rate": learning_rate, "lora_r": lora_r, "lora_alpha": lora_alpha, "lora_dropout": lora_dropout,
        "target_modules": targets_for(base_model, targets), "max_steps": max_steps, "num_epochs": None,
        "batch_size": 4, "max_seq_len": 128, "validation_fraction": 0.1, "eval_interval": max_steps,
        "logging_steps": 1, "checkpoint_interval": 1000, "time_budget_s": TIME_BUDGET_S, "seed": data_seed,
    }


def draw(index: int, *, seed: int = DEFAULT_SEED) -> SweepPoint:
    """Point ``index`` of the design with ``seed`` (independent of every other point)."""
    rng = np.random.default_rng([seed, index])
    base = bases()[int(rng.integers(len(bases())))]
    domain = domains()[int(rng.integers(len(domains())))]
    r = _log_int(rng, *RANK_RANGE)
    ratio = _log_uniform(rng, *ALPHA_RATIO_RANGE)
    knobs = {
        "base_model": base, "domain": domain,
        "learning_rate": float(f"{_log_uniform(rng, *LR_RANGE):.3g}"),
        "lora_r": r, "lora_alpha": float(f"{r * ratio:.3g}"),
        "lora_dropout": round(float(rng.uniform(0.0, 0.3)), 2),
        "targets": TARGET_CHOICES[int(rng.integers(len(TARGET_CHOICES)))],
        "max_steps": _log_int(rng, *STEPS_RANGE),
        "example_rows": _log_int(rng, *ROWS_RANGE),
        "data_seed": int(rng.integers(DATA_SEEDS)),
    }
    spec = make_spec(**knobs)
    key = point_key(spec)
    spec["name"] = NAME_PREFIX + key
    spec["description"] = f"Sweep point {index} of design seed {seed}."
    group = dataset_group(domain, knobs["data_seed"])
    return SweepPoint(index=index, key=key, spec=spec, group=group, held_out=is_held_out(group), knobs=knobs)


def design(n: int, *, seed: int = DEFAULT_SEED) -> list[SweepPoint]:
    """The first ``n`` points of the design (keys are unique: a repeated draw is skipped)."""
    points: list[SweepPoint] = []
    seen: set[str] = set()
    index = 0
    while len(points) < n:
        point = draw(index, seed=seed)
        index += 1
        if point.key not in seen:
            seen.add(point.key)
            points.append(point)
    return points


# --- what the run database already holds ---------------------------------------

@dataclass(frozen=True)
class PointState:
    run_id: int | None
    trained: bool
    """A run with a genuine outcome exists (not one cut short by the sweep itself)."""
    evaluated: bool

    @property
    def finished(self) -> bool:
        return self.trained and self.evaluated


def _needs_scores(store: Store, run_id: int) -> bool:
    run = store.get_run(run_id)
    return bool(run.artifacts.get("adapter"))


def point_states(store: Store, points: Sequence[SweepPoint], *, eval_limit: int,
                 owner: str = OWNER) -> dict[str, PointState]:
    """Where each point stands, from ``owner``'s runs (one listing, newest first)."""
    wanted = {p.run_name: p.key for p in points}
    found: dict[str, PointState] = {}
    offset = 0
    while True:
        page = store.list_runs(owner=owner, summary=True, limit=500, offset=offset, order="newest")
        for run in page:
            key = wanted.get(run.name)
            if key is None or (key in found and found[key].trained):
                continue
            genuine = run.training_outcome is not None and run.failure_class not in RETRAIN_CLASSES
            if not genuine:
                found.setdefault(key, PointState(run.id, False, False))
                continue
            evaluated = not _needs_scores(store, run.id) or _scored(store, run.id, eval_limit)
            found[key] = PointState(run.id, True, evaluated)
        if len(page) < 500:
            break
        offset += 500
    return found


def _scored(store: Store, run_id: int, eval_limit: int) -> bool:
    evals = store.list_evaluations(model_id=run_id)
    covered = {e.domain for e in evals if (e.stamp or {}).get("limit") == eval_limit}
    return set(domains()) <= covered


# --- running ---------------------------------------------------------------------

TEMPLATE = "template:config-sweep"


@dataclass
class BatchReport:
    """What one batch (one notebook job, or a call by hand) did."""

    trained: list[str] = field(default_factory=list)
    evaluated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)


Say = Callable[[str], None]


def score_bases(*, store: Store, base_models: Sequence[str], eval_limit: int) -> None:
    """Each base scored once under the sweep's limit (reused under the same stamp), so gains have a baseline."""
    from hubkit.evaluate import evaluate_base

    for base in base_models:
        evaluate_base(store=store, base_key=base, limit=eval_limit)


def run_points(*, points: Sequence[SweepPoint], store: Store, eval_limit: int = DEFAULT_EVAL_LIMIT,
               owner: str = OWNER, executed_by: str = "platform", cancel: Callable[[], bool] | None = None,
               on_record: Callable[[Any], None] | None = None, template: str | None = None,
               template_version: str | None = None, say: Say | None = None) -> BatchReport:
    """Train and score the unfinished ``points`` in this process, one after the other.

    The calls are the training and evaluation notebooks' own (``train.run``,
    ``evaluate_model``); running a batch of them in one kernel spares each point
    a kernel start, which costs more than a stand-in's training. A point whose
    run is recorded but not scored is only scored.
    """
    from hubkit import train
    from hubkit.evaluate import evaluate_model

    say = say or (lambda text: None)
    report = BatchReport()
    store.ensure_user(owner, role="researcher")
    states = point_states(store, points, eval_limit=eval_limit, owner=owner)
    todo = [p for p in points if not states.get(p.key, PointState(None, False, False)).finished]
    report.skipped = [p.key for p in points if p not in todo]
    score_bases(store=store, base_models=sorted({p.spec["base_model"] for p in todo}), eval_limit=eval_limit)
    for point in todo:
        if cancel is not None and cancel():
            break
        state = states.get(point.key, PointState(None, False, False))
        run_id = state.run_id if state.trained else None
        if run_id is None:
            result = train.run(point.spec, store=store, owner=owner, executed_by=executed_by, cancel=cancel,
                               on_record=on_record, template=template, template_version=template_version)
            run_id = result.run_id
            report.trained.append(point.key)
        run = store.get_run(run_id)
        report.outcomes[point.key] = str(getattr(run.training_outcome, "value", run.training_outcome))
        if run.artifacts.get("adapter") and not _scored(store, run_id, eval_limit):
            evaluate_model(store=store, model_id=run_id, limit=eval_limit)
            report.evaluated.append(point.key)
        say(f"point {point.index} ({point.key}) {point.spec['base_model']} {point.spec['domain']} "
            f"lr={point.spec['learning_rate']:.3g} r={point.spec['lora_r']}: {report.outcomes[point.key]}"
            + (f" ({run.failure_class})" if run.failure_class else ""))
    return report


def pending(*, store: Store, n: int, seed: int = DEFAULT_SEED, eval_limit: int = DEFAULT_EVAL_LIMIT) -> list[SweepPoint]:
    """The points among the first ``n`` of the design that are not finished yet."""
    store.ensure_user(OWNER, role="researcher")
    points = design(n, seed=seed)
    states = point_states(store, points, eval_limit=eval_limit)
    return [p for p in points if not states.get(p.key, PointState(None, False, False)).finished]


@dataclass
class SweepReport:
    planned: int
    already_done: int
    jobs: list[int] = field(default_factory=list)
    failed_jobs: list[int] = field(default_factory=list)
    finished: int = 0


def run_sweep(*, n: int, store: Store, settings: Any = None, seed: int = DEFAULT_SEED,
              eval_limit: int = DEFAULT_EVAL_LIMIT, batch: int = 10, owner: str = OWNER,
              on_batch: Callable[[int, int], None] | None = None) -> SweepReport:
    """Run the unfinished points among the first ``n`` as notebook jobs of ``batch`` points each.

    Each job runs the ``config-sweep`` template on the configured executor
    (local or Ray) and records every run it trains under the template's name.
    Interrupted, it is simply started again: finished points are recognised by
    their key and never trained twice.
    """
    from hubkit.config import load_settings
    from hubkit.jobs import submit, wait

    settings = settings or load_settings()
    store.ensure_user(owner, role="researcher")
    todo = pending(store=store, n=n, seed=seed, eval_limit=eval_limit)
    report = SweepReport(planned=n, already_done=n - len(todo))
    for start in range(0, len(todo), batch):
        chunk = todo[start:start + batch]
        job = submit(notebook=TEMPLATE, owner=owner, store=store, settings=settings,
                     parameters={"design_seed": seed, "indices": [p.index for p in chunk], "eval_limit": eval_limit})
        report.jobs.append(job.id)
        job = wait(job.id, store=store, settings=settings)
        if str(getattr(job.state, "value", job.state)) != "succeeded":
            report.failed_jobs.append(job.id)
        report.finished = n - len(pending(store=store, n=n, seed=seed, eval_limit=eval_limit))
        if on_batch is not None:
            on_batch(report.finished, n)
    return report


# --- export ----------------------------------------------------------------------

SWEEP_FILE = "sweep.parquet"


def export_sweep(*, directory: Any, store: Store, n: int, seed: int = DEFAULT_SEED,
                 eval_limit: int = DEFAULT_EVAL_LIMIT) -> list[Any]:
    """The research export of the sweep database plus ``sweep.parquet`` (one row per finished point,
    with its held-out mark) and a sweep section in the datasheet."""
    from pathlib import Path

    from hubkit.catalog import RECIPE_VERSION
    from hubkit.research.advisor.table import sweep_table
    from hubkit.research.export import _write_parquet, export

    out = Path(directory)
    written = export(directory=out, store=store)
    table = sweep_table(store=store)
    points = design(n, seed=seed)
    states = point_states(store, points, eval_limit=eval_limit)
    drawn = {p.key: p.index for p in points if states.get(p.key, PointState(None, False, False)).finished}
    table = table[table["key"].isin(drawn)].copy()
    table.insert(1, "design_index", table["key"].map(drawn).astype("int64"))
    table["design_seed"] = seed
    table["eval_limit"] = eval_limit
    table["standin_recipe"] = RECIPE_VERSION
    table = table.sort_values("design_index").reset_index(drop=True)
    _write_parquet(table, out / SWEEP_FILE)
    sheet = out / "datasheet.md"
    sheet.write_text(sheet.read_text(encoding="utf-8") + sweep_datasheet(table, n=n, seed=seed,
                                                                          eval_limit=eval_limit), encoding="utf-8")
    return [*written, out / SWEEP_FILE]


def sweep_datasheet(table: Any, *, n: int, seed: int, eval_limit: int) -> str:
    """The datasheet's sweep section: the design, what was finished, the held-out rule."""
    from hubkit.catalog import RECIPE_VERSION

    outcomes = table["outcome"].value_counts().to_dict() if len(table) else {}
    classes = table.loc[table["failure_class"] != "", "failure_class"].value_counts().to_dict() if len(table) else {}
    held = int(table["held_out"].sum()) if len(table) else 0
    return "\n".join([
        "", "## The configuration sweep (sweep.parquet)", "",
        f"{len(table)} of the first {n} points of the design with seed {seed} are finished. Each point is a",
        ("real LoRA training of an offline stand-in (stand-in recipe version "
        f"{RECIPE_VERSION}) drawn independently: learning rate"),
        (f"log-uniform over {LR_RANGE[0]:g}…{LR_RANGE[1]:g}, LoRA rank log-uniform over {RANK_RANGE[0]}…{RANK_RANGE[1]}, "
        f"alpha = rank × a ratio log-uniform over {ALPHA_RATIO_RANGE[0]:g}…{ALPHA_RATIO_RANGE[1]:g},"),
        f"dropout uniform over 0…0.3, target modules one of {', '.join(TARGET_CHOICES)}, steps log-uniform over",
        (f"{STEPS_RANGE[0]}…{STEPS_RANGE[1]}, example rows log-uniform over {ROWS_RANGE[0]}…{ROWS_RANGE[1]}, "
        f"data seed 0…{DATA_SEEDS - 1}, and a uniform choice of base and domain;"),
        (f"batch size 4, sequences of 128 tokens, a {TIME_BUDGET_S:g} s time budget. Every run was scored in every "
        f"domain with {eval_limit} items per task"),
        "(the stamp's `limit`), against its base model scored under the same stamp.", "",
        (f"Outcomes: {', '.join(f'{k} {v}' for k, v in outcomes.items()) or 'none yet'}; failure classes: "
        f"{', '.join(f'{k} {v}' for k, v in classes.items()) or 'none'}."), "",
        f"Held out: {held} rows (`held_out`). A dataset is the micro-world's example data of one domain and data",
        "seed (`dataset_group`); larger and smaller draws of one seed share items, so the mark is set per group",
        f"(sha256 of the group name, about {HELD_OUT_SHARE:.0%} of groups). Fit on `held_out == False`, measure on",
        "`held_out == True`: no item of a held-out dataset is in the training share.", "",
        "Columns: the knobs as trained (`learning_rate`, `lora_r`, ...), `outcome` and `failure_class`,",
        "`duration_s`, `first_loss` / `final_loss` / `final_eval_loss` / `nonfinite` from the curve,",
        "`score.<domain>` (0–100, mean of the domain's scored tasks) and `gain.<domain>` (points over the base",
        "model), `n.<domain>` (items per task). Regenerate with `hubkit research sweep --runs N --export DIR`.", "",
    ])
