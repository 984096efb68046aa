"""Export tests: a hub with every catalog base and the stand-ins."""
from __future__ import annotations

import pytest
import torch

from hubkit.store import LocalStore

torch.set_num_threads(1)


@pytest.fixture
def hub(catalog_store: LocalStore) -> LocalStore:
    return catalog_store
