"""Export tests: a hub with every catalog base and the stand-ins, and briefly trained runs.

Runs are trained once per family for the module that asks (training is the slow part)."""
from __future__ import annotations

import os

import pytest
import torch

from hubkit.store import LocalStore

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def llama_tools() -> None:
    """GGUF tests need llama.cpp's tools, which `make test` installs (hubkit[export]); required in CI."""
    from hubkit.export.tools import converter_ready, runtime_ready

    if not (runtime_ready() and converter_ready()):
        reason = "llama.cpp's tools are not installed: run `python -m hubkit.export.tools`"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def hub(standin_env, settings) -> LocalStore:  # type: ignore[no-untyped-def]
    from hubkit.catalog import base_model_records
    from tests.fixtures.db import seed_minimal

    store = LocalStore(settings.database_url)
    seed_minimal(store)
    for row in base_model_records():
        store.upsert_base_model(**row)
    return store


def train_briefly(store: LocalStore, family: str, **changes) -> int:  # type: ignore[no-untyped-def]
    """A real LoRA run on the family's stand-in: a few steps on the chat-format example data."""
    from hubkit.train import TrainSpec, run
    from tests.train.conftest import small_spec

    spec = small_spec(base_model=f"{family}-standin", name=f"{family} export test", max_steps=6,
                      learning_rate=5e-3, **changes)
    result = run(TrainSpec.parse(spec), store=store, owner="alice")
    assert result.outcome == "success", result.error
    return result.run_id
