"""Fixtures for job tests: a seeded hub with a short heartbeat, and one on the session's
local Ray head (``local_ray_head``, in tests/fixtures/ray.py)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubkit.config import Settings, load_settings
from hubkit.db import upgrade
from hubkit.errors import HubkitError
from hubkit.jobs.rayhead import LocalHead
from hubkit.store import LocalStore
from tests.fixtures.db import seed_minimal

NOTEBOOKS = Path(__file__).parent / "notebooks"
POINTS = str(NOTEBOOKS / "points.ipynb")


@dataclass
class JobHub:
    settings: Settings
    store: LocalStore


def make_hub(hub_home: Path, **overrides: object) -> JobHub:
    settings = load_settings(**{"heartbeat_timeout_s": 4.0, **overrides})
    upgrade(settings.database_url)
    store = LocalStore(settings.database_url)
    seed_minimal(store)
    return JobHub(settings=settings, store=store)


@pytest.fixture
def job_hub(hub_home: Path) -> Iterator[JobHub]:
    """A migrated, seeded hub whose jobs run on the local executor."""
    from hubkit import jobs

    hub = make_hub(hub_home)
    yield hub
    _stop_leftovers(hub)
    jobs.shutdown()


def _stop_leftovers(hub: JobHub) -> None:
    from hubkit import jobs

    for job in hub.store.list_jobs(states=["queued", "running"]):
        with contextlib.suppress(HubkitError):  # ended on its own meanwhile
            jobs.cancel(job.id, grace_s=2, store=hub.store, settings=hub.settings)


@pytest.fixture(scope="session")
def ray_head(local_ray_head: LocalHead) -> str:
    """The session's Ray head's Jobs API address."""
    return local_ray_head.address


@pytest.fixture
def ray_hub(hub_home: Path, ray_head: str) -> Iterator[JobHub]:
    """A seeded hub whose jobs run on the session's Ray head."""
    from hubkit import jobs

    hub = make_hub(hub_home, executor="ray", ray_address=ray_head)
    yield hub
    _stop_leftovers(hub)
    jobs.shutdown()


@pytest.fixture
def train_hub(standin_env: Path) -> Iterator[JobHub]:
    """A seeded hub with the stand-in models built and every catalog base model registered."""
    from hubkit import jobs
    from hubkit.bootstrap import register_catalog

    hub = make_hub(standin_env, heartbeat_timeout_s=120.0)
    register_catalog(hub.store, settings=hub.settings)
    yield hub
    _stop_leftovers(hub)
    jobs.shutdown()
