"""Fixtures for job tests: a seeded hub with a short heartbeat, and a local Ray head.

The Ray head is started once per session by the test set-up itself (free
ports, two CPUs, no usage stats) and stopped at the end.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubkit.config import Settings, load_settings
from hubkit.db import upgrade
from hubkit.errors import HubkitError
from hubkit.store import LocalStore
from tests.fixtures.db import seed_minimal

NOTEBOOKS = Path(__file__).parent / "notebooks"
POINTS = str(NOTEBOOKS / "points.ipynb")
VENV_BIN = Path(sys.executable).parent


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local Ray head for the session; yields its Jobs API address."""
    ray = VENV_BIN / "ray"
    if not ray.exists() and shutil.which("ray") is None:
        pytest.skip("Ray is not installed")
    port, dashboard = _free_port(), _free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    temp = tmp_path_factory.mktemp("ray")
    subprocess.run(
        [str(ray), "start", "--head", "--num-cpus=2", "--dashboard-host=127.0.0.1",
         f"--dashboard-port={dashboard}", f"--port={port}", "--disable-usage-stats",
         "--include-dashboard=true", f"--temp-dir={temp}"],
        check=True, env=env, capture_output=True, timeout=180)
    address = f"http://127.0.0.1:{dashboard}"
    try:
        _wait_for_jobs_api(address)
        yield address
    finally:
        subprocess.run([str(ray), "stop", "--force"], env=env, capture_output=True, timeout=120, check=False)


def _wait_for_jobs_api(address: str, timeout_s: float = 90) -> None:
    from ray.job_submission import JobSubmissionClient

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            JobSubmissionClient(address).list_jobs()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


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
