"""Reproducibility stamps: everything that changes a score, and nothing about the model.

The store ranks and subtracts only scores whose stamps are equal, so a stamp
holds the suite the score belongs to (the offline and standard suites are
never ranked together), the harness and task versions, the data's fingerprint and every setting
of the run (shots, batch size, chat template, generation, limit, seeds, and
the kind of device and the dtype the weights were loaded in: a bf16 GPU score
is not an f32 CPU score) but never the model's name, path or adapter, nor
which GPU of the machine ran it.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from hubkit.devices import DeviceChoice
from hubkit.evaluate.domains import TaskSpec
from hubkit.evaluate.sandbox import SandboxLimits

# lm-eval's simple_evaluate defaults, passed explicitly so they are on record.
SEEDS = {"random": 0, "numpy": 1234, "torch": 1234, "fewshot": 1234}
DEFAULT_BATCH_SIZE = 16
CPU = DeviceChoice("cpu")


@dataclass(frozen=True)
class RunSettings:
    """The settings shared by every task of one evaluation."""

    batch_size: int = DEFAULT_BATCH_SIZE
    limit: int | None = None
    chat_template: bool = False
    device: DeviceChoice = CPU
    """Where the model is loaded; its kind and dtype go on the stamp, never its index."""

    def device_stamp(self) -> dict[str, str]:
        return {"device": self.device.kind, "dtype": self.device.dtype_name}


def dataset_fingerprint(docs: Iterable[Mapping[str, Any]]) -> str:
    """sha256 of the evaluated items in order (canonical JSON), wherever they were read from."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def harness_version() -> str:
    return version("lm_eval")


def build_stamp(*, spec: TaskSpec, suite: str, task_version: Any, num_fewshot: int, output_type: str,
                generation: Mapping[str, Any] | None, fingerprint: str, run: RunSettings,
                sandbox: SandboxLimits | None = None) -> dict[str, Any]:
    stamp: dict[str, Any] = {
        "harness": "lm-evaluation-harness",
        "harness_version": harness_version(),
        "suite": suite,
        "task": spec.name,
        "task_version": task_version,
        "metric": spec.metric,
        "filter": spec.filter,
        "output_type": output_type,
        "num_fewshot": num_fewshot,
        "batch_size": run.batch_size,
        "chat_template": run.chat_template,
        "fewshot_as_multiturn": run.chat_template,
        "generation": dict(generation) if generation else None,
        "limit": run.limit,
        "seed": dict(SEEDS),
        "dataset_fingerprint": fingerprint,
        **run.device_stamp(),
    }
    if spec.needs_code_execution:
        stamp["sandbox"] = (sandbox or SandboxLimits()).stamp()
    return stamp
