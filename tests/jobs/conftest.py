"""Fixtures for job tests: a seeded hub with a short heartbeat, and one on the session's
local Ray head (``local_ray_head``, in tests/fixtures/ray.py) with its service, through
which a Ray job records itself."""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    tokens: dict[str, str] = field(default_factory=dict)
    """The service's tokens (seeded users and "platform"), when the hub runs one."""


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
    """A seeded hub whose jobs run on the session's Ray head and record through its service."""
    from hubkit import jobs
    from hubkit.service import BackgroundServer, create_app
    from tests.fixtures.service import static_tokens, token_table

    hub = make_hub(hub_home, executor="ray", ray_address=ray_head)
    hub.tokens = static_tokens()
    server = BackgroundServer(create_app(hub.settings, hub.store, token_table(hub.tokens), prefix="/services/hubkit"))
    hub.settings = dataclasses.replace(hub.settings, job_service_url=server.start() + "/services/hubkit")
    try:
        yield hub
        _stop_leftovers(hub)
    finally:
        jobs.shutdown()
        server.stop()


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
