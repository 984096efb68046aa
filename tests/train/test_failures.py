"""Exceptions become failure classes with a hint a person can act on."""
from __future__ import annotations

import torch

from hubkit.train import failures


def test_oom_forms() -> None:
    for exc in (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
                RuntimeError("CUDA error: out of memory"),
                RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
                             "you tried to allocate 1 bytes. Error code 12 (Cannot allocate memory) failed to allocate"),
                MemoryError()):
        outcome = failures.from_exception(exc)
        assert (outcome.outcome, outcome.failure_class) == ("failure", "oom"), exc
        assert "smaller batch" in outcome.message and "gradient checkpointing" in outcome.message


def test_other_exceptions_name_their_type() -> None:
    outcome = failures.from_exception(KeyError("text"))
    assert outcome.failure_class == "exception" and "KeyError" in outcome.message
    assert failures.from_exception(RuntimeError("shape mismatch")).failure_class == "exception"


def test_partial_and_early_stop_outcomes() -> None:
    assert failures.cancelled(7).outcome == "partial"
    assert failures.time_budget(7, 30).failure_class == "time_budget"
    assert failures.early_stop_no_improvement(4).outcome == "failure"
    assert "lower learning rate" in failures.divergence("x").message
