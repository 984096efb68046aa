"""Cross-domain benchmarking with lm-evaluation-harness.

Every run that ends with an adapter is scored on every domain by the
platform's evaluation worker (``hubkit.evaluate.worker``), once; base
models are scored once per task version as baselines (``evaluate_base``). Two
suites share one interface: ``offline`` (local task YAMLs over the
micro-world's held-apart splits plus the real HumanEval problems) and
``standard`` (the published lm-eval tasks, where their data is present). Each
score carries its stderr, sample count and a reproducibility stamp without
model identity, so the store can compare scores and compute deltas.

Importing this package is cheap: the runner (and with it lm-eval, torch and
datasets) loads on first use of the names below.
"""
from __future__ import annotations

import importlib
from typing import Any

from hubkit.evaluate.domains import DOMAINS, EvalDomain, TaskSpec
from hubkit.evaluate.suites import SUITES, Suite

_LAZY = {
    "evaluate_model": "hubkit.evaluate.runner",
    "evaluate_base": "hubkit.evaluate.runner",
    "EvalReport": "hubkit.evaluate.runner",
    "EvalProgress": "hubkit.evaluate.runner",
    "TaskScore": "hubkit.evaluate.runner",
    "score_model": "hubkit.evaluate.runner",
    "on_run_finished": "hubkit.evaluate.worker",
    "WorkerOptions": "hubkit.evaluate.worker",
    "run_program": "hubkit.evaluate.sandbox",
    "SandboxLimits": "hubkit.evaluate.sandbox",
    "SandboxResult": "hubkit.evaluate.sandbox",
    "capabilities": "hubkit.evaluate.sandbox",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hubkit.evaluate' has no attribute {name!r}")


__all__ = ["DOMAINS", "SUITES", "EvalDomain", "Suite", "TaskSpec", *_LAZY]
