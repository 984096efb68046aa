"""A running service over a seeded SQLite store for each test."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from hubkit.db import upgrade
from hubkit.store import LocalStore
from tests.fixtures.db import seed_minimal
from tests.fixtures.service import RunningService


@pytest.fixture
def svc(sqlite_url: str, service_for: Callable[..., RunningService]) -> RunningService:
    upgrade(sqlite_url)
    local = LocalStore(sqlite_url)
    seed_minimal(local)
    return service_for(local, max_upload_bytes=20_000)
