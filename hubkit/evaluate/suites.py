"""The two task suites and the lm-eval ``TaskManager`` each one runs through.

The offline suite's YAMLs live in ``hubkit/evaluate/tasks``; their data files
are written under ``HUBKIT_HOME`` at first use. That folder is keyed by a hash
of the task files and data sources, so a changed task never reuses stale data,
and it is built in a temporary folder then renamed, so two processes starting
at once never see half of it. ``@DATA_DIR@`` in a YAML is replaced by the
absolute data folder (lm-eval resolves ``data_files`` against the current
directory otherwise); ``@CACHE_DIR@`` keeps the ``datasets`` cache of these
files inside the same folder instead of the user's Hugging Face cache.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hubkit.config import Settings, load_settings
from hubkit.evaluate.domains import DOMAINS, TaskSpec
from hubkit.evaluate.registry import Registry

if TYPE_CHECKING:
    from lm_eval.tasks import TaskManager

TASKS_DIR = Path(__file__).with_name("tasks")
DATA_PLACEHOLDER = "@DATA_DIR@"
CACHE_PLACEHOLDER = "@CACHE_DIR@"


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    include_lm_eval_tasks: bool
    """Whether lm-eval's bundled task index is searched too (slow to build; standard only)."""


SUITES: Registry[Suite] = Registry("evaluation suite")
SUITES.register(Suite(
    "offline",
    "Micro-world evaluation splits in every domain plus the real HumanEval problems; runs anywhere.",
    include_lm_eval_tasks=False,
))
SUITES.register(Suite(
    "standard",
    "The published benchmarks (GSM8K, MMLU, ARC, HellaSwag, WinoGrande, WMT16, RACE, HumanEval), "
    "where their data is on this machine.",
    include_lm_eval_tasks=True,
))


def offline_specs() -> list[TaskSpec]:
    return [spec for domain in DOMAINS.values() for spec in domain.offline if spec.source is not None]


def _suite_key() -> str:
    digest = hashlib.sha256()
    for path in sorted(TASKS_DIR.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for spec in sorted(offline_specs(), key=lambda s: s.name):
        digest.update(f"{spec.name}:{spec.source.describe()}\0".encode())  # type: ignore[union-attr]
    return digest.hexdigest()[:16]


def task_folder(settings: Settings | None = None) -> Path:
    """The rendered task YAMLs plus their data, created on first use."""
    settings = settings or load_settings()
    root = Path(settings.home).resolve() / "evaluate"
    target = root / f"tasks-{_suite_key()}"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tasks-", dir=root))
    try:
        data_dir = target / "data"
        for spec in offline_specs():
            spec.source.write(staging / "data" / f"{spec.name}.jsonl")  # type: ignore[union-attr]
        for path in TASKS_DIR.glob("*.yaml"):
            text = (path.read_text(encoding="utf-8").replace(DATA_PLACEHOLDER, str(data_dir))
                    .replace(CACHE_PLACEHOLDER, str(target / "cache")))
            (staging / path.name).write_text(text, encoding="utf-8")
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


AUTOMATIC: tuple[str, ...] = ("offline", "standard")
"""What the platform scores every run on: the offline tasks always, each standard task whose data is here."""

SuiteChoice = str | Sequence[str]


def suite_names(suite: SuiteChoice) -> tuple[str, ...]:
    """One suite's name or several, checked, in order and without repeats."""
    names = (suite,) if isinstance(suite, str) else tuple(suite)
    return tuple(dict.fromkeys(SUITES[name].name for name in names))


def task_manager(suite: SuiteChoice, *, settings: Settings | None = None) -> TaskManager:
    """The manager that finds every task of ``suite`` (one name or several)."""
    include_defaults = any(SUITES[name].include_lm_eval_tasks for name in suite_names(suite))
    return _manager(str(task_folder(settings)), include_defaults)


@functools.lru_cache(maxsize=4)
def _manager(folder: str, include_defaults: bool) -> TaskManager:
    """Built once per process: indexing lm-eval's bundled tasks takes seconds, and a worker scores many runs."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=folder, include_defaults=include_defaults)
