"""Turning whatever stopped a run into an honest outcome, failure class and message.

Classes: ``divergence``, ``oom``, ``exception``, ``early_stop_no_improvement``,
``worker_lost`` (a worker of a multi-worker run died) (failures); ``cancelled``,
``time_budget`` (partial). ``lost`` is set by the store's reaper when the
process died without a word. Every message is a plain
sentence that says what to try next.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass

import torch

from hubkit.errors import TrainingError

OOM_HINT = ("Try a smaller batch size, a shorter maximum sequence length, or turn on "
            "gradient checkpointing.")
DIVERGENCE_HINT = "Try a lower learning rate (for example ten times lower) or a longer warm-up."


@dataclass(frozen=True)
class Outcome:
    outcome: str
    """success / failure / partial"""
    failure_class: str | None = None
    message: str | None = None


def is_oom(exc: BaseException) -> bool:
    """CUDA, MPS and CPU allocators all say "out of memory" in some form."""
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "failed to allocate" in text)


def free_device_memory() -> None:
    """Give cached allocator blocks back after an OOM so the process (or the next run) can go on."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def from_exception(exc: BaseException) -> Outcome:
    if isinstance(exc, TrainingError) and exc.failure_class != "exception":
        return Outcome("failure", exc.failure_class, exc.message)
    if is_oom(exc):
        free_device_memory()
        return Outcome("failure", "oom", f"Training ran out of memory. {OOM_HINT} "
                                         f"({type(exc).__name__}: {_short(exc)})")
    return Outcome("failure", "exception",
                   f"Training stopped with an error: {type(exc).__name__}: {_short(exc)}")


def divergence(reason: str) -> Outcome:
    return Outcome("failure", "divergence", f"Training diverged: {reason}. {DIVERGENCE_HINT}")


def cancelled(step: int) -> Outcome:
    return Outcome("partial", "cancelled", f"Training was cancelled at step {step}; what was learnt "
                                           "so far is kept and can be resumed.")


def time_budget(step: int, budget_s: float) -> Outcome:
    return Outcome("partial", "time_budget", f"The time budget of {budget_s:g} s ran out at step {step}; "
                                             "what was learnt so far is kept and can be resumed.")


def early_stop_no_improvement(checks: int) -> Outcome:
    return Outcome("failure", "early_stop_no_improvement",
                   f"Training stopped early: the loss on held-back data never improved in {checks} "
                   "checks. Try a higher learning rate, more data, or a different base model.")


def _short(exc: BaseException, limit: int = 500) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text[:limit]
