"""Seed a new platform with real example runs, so every page has content.

Each example is trained on a stand-in and evaluated by the platform, exactly as
a user's run would be: a fork chain, a diverging run, a run cut short by its
time budget, a run trained hot enough to forget other domains (the source of
real capability flags), feedback from several users. Seeding is idempotent: an
example whose run already exists is skipped.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
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
            {**_STEADY, "num_epochs": 20, "time_budget_s": 8.0}),
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


@dataclass
class SeedReport:
    trained: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    runs: dict[str, int] = field(default_factory=dict)


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


def seed(*, settings: Settings | None = None, progress: Callable[[str], None] | None = None,
         evaluate: bool = True, examples: Sequence[Example] = EXAMPLES) -> SeedReport:
    """Train, evaluate and annotate the example runs that are not there yet."""
    from hubkit.bootstrap import init_platform
    from hubkit.train import run as train

    settings = settings or load_settings()
    say = progress or (lambda text: None)
    say("Preparing the database and the stand-in models")
    store = init_platform(settings=settings, build_models=True)
    for username, role in USERS.items():
        store.ensure_user(username, role=role)
    report = SeedReport()
    for i, example in enumerate(examples, 1):
        existing = _existing(store, example)
        if existing is not None:
            report.skipped.append(example.key)
            report.runs[example.key] = existing
            continue
        say(f"[{i}/{len(examples)}] training {example.name} ({example.domain} on {example.base_model})")
        parent = report.runs.get(example.parent) if example.parent else None
        result = train(_spec(example), store=store, owner=example.owner, parent_model_id=parent,
                       relation=example.relation if parent else None)
        report.runs[example.key] = result.run_id
        report.trained.append(example.key)
        say(f"    {result.outcome}{' (' + result.failure_class + ')' if result.failure_class else ''}")
        if evaluate:
            _evaluate(store, result.run_id, say)
    for key, user, thumbs_up, comment in FEEDBACK:
        if key in report.runs:
            store.record_feedback(report.runs[key], user=user, thumbs_up=thumbs_up, comment=comment)
    return report


def _evaluate(store: LocalStore, run_id: int, say: Callable[[str], None]) -> None:
    from hubkit.evaluate import on_run_finished

    say("    evaluating in every domain")
    on_run_finished(store, run_id)
