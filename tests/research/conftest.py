"""A small varied run database on each backend, built through the Store."""
from __future__ import annotations

import pytest

from tests.research.world import World, build_world


@pytest.fixture
def world(db_url: str) -> World:
    return build_world(db_url)
