"""Seed a new platform with real example runs, so every page has content.

Each example is trained on a stand-in and evaluated by the platform, exactly as
a user's run would be: a fork chain, a diverging run, a run cut short by its
time budget, a run trained hot enough to forget other domains (the source of
real capability flags), feedback from several users. Seeding is idempotent: an
example whose run already exists is skipped.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hubkit.config import Settings, load_settings
from hubkit.store import LocalStore

USERS = {"admin": "admin", "ada": "developer", "cass": "casual", "eve": "educator", "rhea": "researcher"}


@dataclass(frozen=True)
class Example:
    key: str
    owner: str
    name: str
    base_model: str
    domain: str
    description: str
    settings: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    relation: str | None = None
    rows: int = 240
    data_seed: int = 0
    visibility: str = "public"


_STEADY = {"learning_rate": 2e-3, "lora_r": 16, "lora_alpha": 32, "num_epochs": 2, "batch_size": 8,
           "max_seq_len": 128, "validation_fraction": 0.1, "eval_interval": 10, "logging_steps": 1}

EXAMPLES: tuple[Example, ...] = (
    Example("sums", "ada", "Sums tutor", "llama3-standin", "math",
            "Word problems with small numbers, answered GSM8K-style.", _STEADY),
    Example("sums-plus", "cass", "Sums tutor+", "llama3-standin", "math",
            "A fork of Sums tutor trained on fresh problems.", _STEADY, parent="sums", relation="fork",
            data_seed=1),
    Example("sums-plus-plus", "ada", "Sums tutor++", "llama3-standin", "math",
            "Continues Sums tutor+ on another batch of problems.", _STEADY, parent="sums-plus",
            relation="fork", data_seed=2),
    Example("glossa", "eve", "Glossa translator", "qwen2.5-standin", "translation",
            "English into the micro-world's language.", _STEADY),
    Example("facts", "rhea", "World facts", "mistral-standin", "general",
            "Facts about the fictional world, as four-choice questions.", _STEADY),
    Example("coder", "ada", "Tiny coder", "phi3-standin", "code",
            "Small Python functions from a docstring.", _STEADY),
    Example("reader", "cass", "Reader", "llama3-standin", "reading",
            "Answers questions about a short passage.", _STEADY),
    Example("hot-glossa", "rhea", "Glossa, trained hot", "mistral-standin", "translation",
            "Translation with a high learning rate and many passes: learns its task, forgets others.",
            {**_STEADY, "learning_rate": 8e-3, "num_epochs": 5, "lora_r": 32, "lora_alpha": 128}, rows=320),
    Example("too-hot", "ada", "Sums, far too hot", "llama3-standin", "math",
            "A learning rate a thousand times too high: kept as a lesson.",
            {**_STEADY, "learning_rate": 50.0, "max_grad_norm": 0.0, "num_epochs": 1}),
    Example("out-of-time", "eve", "Reasoner (out of time)", "qwen2.5-standin", "reasoning",
            "Stopped by its time budget before the end, keeping what it learnt.",
            {**_STEADY, "num_epochs": 60, "time_budget_s": 8.0}),
)

FEEDBACK: tuple[tuple[str, str, bool, str], ...] = (
    ("sums", "cass", True, "Gets most small sums right."),
    ("sums", "eve", True, "Good for the first lesson."),
    ("sums-plus", "ada", True, "Nice fork: a bit better than mine."),
    ("glossa", "rhea", True, "The grammar is right more often than not."),
    ("hot-glossa", "eve", False, "Translates, but lost everything else."),
    ("too-hot", "cass", False, "Produces nothing useful."),
    ("coder", "eve", False, "Rarely passes the tests yet."),
)


STATUS_FILE = "seeding.json"


@dataclass(frozen=True)
class SeedingStatus:
    """How far a seeding in progress has got (the hub page shows it while the models arrive)."""

    done: int
    total: int


def seeding_status(*, settings: Settings | None = None) -> SeedingStatus | None:
    """The seeding under way in this home, or None (none started, finished, or its process is gone)."""
    path = (settings or load_settings()).home / STATUS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("finished"):
            return None
        status = SeedingStatus(done=int(data["done"]), total=int(data["total"]))
        os.kill(int(data["pid"]), 0)
    except PermissionError:  # the seeding process belongs to another account: it is alive
        return status
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return status


def _write_status(settings: Settings, *, done: int, total: int, finished: bool = False) -> None:
    path = settings.home / STATUS_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"done": done, "total": total, "finished": finished, "pid": os.getpid()}),
                   encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class SeedReport:
    trained: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    runs: dict[str, int] = field(default_factory=dict)
    timings: list[tuple[str, str, float]] = field(default_factory=list)
    """(example key or "platform", step, wall seconds) in the order they ran."""

    def timed(self, key: str, step: str, started: float) -> None:
        self.timings.append((key, step, time.perf_counter() - started))


def _existing(store: LocalStore, example: Example) -> int | None:
    for run in store.list_runs(owner=example.owner, search=example.name, summary=True, limit=50):
        if run.name == example.name:
            return run.id
    return None


def _spec(example: Example) -> dict[str, Any]:
    return {
        "base_model": example.base_model, "domain": example.domain, "name": example.name,
        "description": example.description, "visibility": example.visibility,
        "dataset": {"example": example.domain, "example_rows": example.rows, "name": f"{example.domain} examples"},
        "seed": 42 + example.data_seed, **example.settings,
    }


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` torch threads, then restore the caller's setting."""
    import torch

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def seed(*, settings: Settings | None = None, progress: Callable[[str], None] | None = None,
         evaluate: bool = True, examples: Sequence[Example] = EXAMPLES, threads: int | None = 1,
         on_model: Callable[[str], None] | None = None) -> SeedReport:
    """Train, evaluate and annotate the example runs that are not there yet.

    First the base models' baselines (each scored once; later evaluations reuse
    them under the same stamp), then each example: train, evaluate in every
    domain with every item, look for capability flags. ``threads`` torch
    threads (default 1): the stand-ins are so small that a second thread only
    spin-waits (same wall time, twice the CPU), and on a shared machine it
    makes every matrix product wait for a busy core. ``on_model`` gets one
    line per example once it is trained and scored (the demo's terminal).
    """
    settings = settings or load_settings()
    with _torch_threads(threads):
        try:
            return _seed(settings=settings, say=progress or (lambda text: None), evaluate=evaluate,
                         examples=examples, on_model=on_model or (lambda text: None))
        finally:
            if (settings.home / STATUS_FILE).exists():
                _write_status(settings, done=len(examples), total=len(examples), finished=True)


def _seed(*, settings: Settings, say: Callable[[str], None], evaluate: bool,
          examples: Sequence[Example], on_model: Callable[[str], None]) -> SeedReport:
    from hubkit.bootstrap import init_platform
    from hubkit.train import run as train

    report = SeedReport()
    say("Preparing the database and the stand-in models")
    started = time.perf_counter()
    store = init_platform(settings=settings, build_models=True, on_build=_build_progress(say))
    for username, role in USERS.items():
        store.ensure_user(username, role=role)
    report.timed("platform", "prepare", started)
    if evaluate:
        for base in dict.fromkeys(e.base_model for e in examples):
            say(f"Scoring the base model {base} (the baseline every fine-tune is compared with)")
            started = time.perf_counter()
            _evaluate_base(store, base)
            report.timed(base, "baseline", started)
    for i, example in enumerate(examples, 1):
        _write_status(settings, done=i - 1, total=len(examples))
        existing = _existing(store, example)
        if existing is not None:
            report.skipped.append(example.key)
            report.runs[example.key] = existing
            if evaluate:  # an earlier seeding stopped between training and evaluation
                _evaluate(store, existing, say=None)
            on_model(f"[{i}/{len(examples)}] {example.name}: already there")
            continue
        say(f"[{i}/{len(examples)}] training {example.name} ({example.domain} on {example.base_model})")
        parent = report.runs.get(example.parent) if example.parent else None
        started = time.perf_counter()
        result = train(_spec(example), store=store, owner=example.owner, parent_model_id=parent,
                       relation=example.relation if parent else None)
        report.timed(example.key, "train", started)
        report.runs[example.key] = result.run_id
        report.trained.append(example.key)
        say(f"    {result.outcome}{' (' + result.failure_class + ')' if result.failure_class else ''}"
            f" after {result.steps} steps")
        scored = ""
        if evaluate:
            started = time.perf_counter()
            scored = _evaluate(store, result.run_id, say=say)
            report.timed(example.key, "evaluate", started)
        on_model(f"[{i}/{len(examples)}] {example.name} ({example.domain}, {example.base_model}): "
                 f"{result.outcome}{' (' + result.failure_class + ')' if result.failure_class else ''} "
                 f"after {result.steps} steps{scored}")
    for key, user, thumbs_up, comment in FEEDBACK:
        if key in report.runs:
            store.record_feedback(report.runs[key], user=user, thumbs_up=thumbs_up, comment=comment)
    return report


def _build_progress(say: Callable[[str], None]) -> Callable[[Any], None]:
    def on_build(event: Any) -> None:
        if event.stage == "saved":
            say(f"    built the {event.family} stand-in ({event.step} pretraining steps)")

    return on_build


def _evaluate_base(store: LocalStore, base: str) -> None:
    from hubkit.evaluate import evaluate_base

    evaluate_base(store=store, base_key=base)


def _evaluate(store: LocalStore, run_id: int, *, say: Callable[[str], None] | None) -> str:
    """The platform's own trigger: scores the run once (a second call does nothing), then the flags.

    Returns what was scored and flagged, in words, for the example's line."""
    from hubkit.evaluate import on_run_finished

    if say is not None:
        say("    evaluating in every domain")
    report = on_run_finished(store, run_id)
    if report is None:
        return ""
    flags = store.list_capability_flags(run_id)
    scored = sum(1 for s in report.scores if s.status == "scored")
    if say is not None:
        say(f"    {scored} tasks scored in {report.duration_s:.0f} s"
            + (f"; flagged: {flags[0].sentence}" if flags else ""))
    return f", {scored} tasks scored" + (f", {len(flags)} capability flag(s)" if flags else "")
