"""A seeded SQLite hub for the use-case tests."""
from __future__ import annotations

import pytest

from hubkit.config import Settings
from hubkit.store import LocalStore
from tests.fixtures.db import seed_minimal
from tests.hub.world import World, build_world


@pytest.fixture
def hub_store(settings: Settings) -> LocalStore:
    store = LocalStore(settings.database_url)
    seed_minimal(store)
    return store


@pytest.fixture
def world(hub_store: LocalStore) -> World:
    return build_world(hub_store)
