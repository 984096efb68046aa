"""Export tests: a hub with every catalog base and the stand-ins."""
from __future__ import annotations

import pytest
import torch

from hubkit.store import LocalStore

torch.set_num_threads(1)


@pytest.fixture
def hub(standin_env, settings) -> LocalStore:  # type: ignore[no-untyped-def]
    from hubkit.catalog import base_model_records
    from tests.fixtures.db import seed_minimal

    store = LocalStore(settings.database_url)
    seed_minimal(store)
    for row in base_model_records():
        store.upsert_base_model(**row)
    return store
