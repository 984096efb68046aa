"""Training tests: few threads (the machine is shared and the models are tiny), and a
hub whose store knows every catalog base model and whose home holds the stand-ins."""
from __future__ import annotations

from typing import Any

import pytest
import torch

from hubkit.store import LocalStore

torch.set_num_threads(1)


@pytest.fixture
def hub(catalog_store: LocalStore) -> LocalStore:
    return catalog_store


def small_spec(**changes: Any) -> dict[str, Any]:
    """A spec that trains a stand-in in a few seconds."""
    return {"base_model": "llama3-standin", "domain": "math", "name": "test run",
            "dataset": {"example": "math", "example_rows": 40}, "max_steps": 8, "batch_size": 4,
            "max_seq_len": 128, "lora_r": 4, "lora_alpha": 8, "learning_rate": 2e-3, "warmup_ratio": 0,
            "validation_fraction": 0.1, "eval_interval": 4, "checkpoint_interval": 4, **changes}


class Calls:
    """A Progress that records what it was told and can act at one step."""

    def __init__(self, at_step: int | None = None, action: Any = None) -> None:
        self.steps: list[int] = []
        self.statuses: list[str] = []
        self.at_step, self.action = at_step, action

    def on_step(self, step: int, total: int, point: dict) -> None:
        self.steps.append(step)
        if self.action is not None and step == self.at_step and "loss" in point:
            self.action()

    def on_status(self, text: str) -> None:
        self.statuses.append(text)
