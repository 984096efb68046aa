"""Every door's run is scored by the platform's worker, once, with no page open.

Runs from the Python API, ``hubkit train``, a notebook job and the service
(a user's kernel, through ``ApiStore``) each leave an evaluation request when
they end. A worker is killed in the middle of scoring; two more race over
what is left; every run ends scored exactly once.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubkit import jobs
from hubkit.cli import main
from hubkit.store import LocalStore
from hubkit.train import run as train_run
from tests.jobs.conftest import JobHub, train_hub  # noqa: F401 - the fixture
from tests.train.conftest import small_spec

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
SPEC = small_spec(max_steps=2, validation_fraction=0, dataset={"example": "math", "example_rows": 16})


def _worker(home: Path, *extra: str, lease_s: float = 3.0) -> subprocess.Popen:
    env = {**os.environ, "HUBKIT_HOME": str(home), "HUBKIT_EVAL_LEASE_S": str(lease_s), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO)}
    env.pop("HUBKIT_DB_URL", None)
    return subprocess.Popen([sys.executable, "-m", "hubkit.cli", "serve", "eval-worker", "--limit", "2",
                             "--domains", "math", "general", *extra], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(check, timeout_s: float = 300) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def test_runs_from_every_door_are_scored_once_despite_a_killed_worker(train_hub: JobHub,  # noqa: F811
                                                                     service_for) -> None:  # type: ignore[no-untyped-def]
    store, home = train_hub.store, train_hub.settings.home
    doors: dict[str, int] = {}
    doors["python"] = train_run(SPEC, store=store, owner="alice").run_id
    assert main(["train", "--base", "llama3-standin", "--example", "math", "--rows", "16", "--max-steps", "2",
                 "--validation-fraction", "0", "--owner", "alice", "--threads", "1", "--no-eval"]) == 0
    doors["cli"] = store.list_runs(owner="alice", limit=1)[0].id
    job = jobs.submit(notebook="train", parameters={"spec": SPEC}, owner="alice", store=store,
                      settings=train_hub.settings)
    job = jobs.wait(job.id, timeout_s=600, store=store, settings=train_hub.settings)
    assert job.state.value == "succeeded", job.error
    doors["job"] = job.model_id
    kernel_store = service_for(store).api_store("alice")  # what a user's kernel holds: a token, no database
    doors["service"] = train_run(SPEC, store=kernel_store, owner="alice", executed_by="user").run_id
    assert all(store.evaluation_request(i).state == "queued" for i in doors.values())
    assert all(store.list_evaluations(model_id=i) == [] for i in doors.values())  # no door scored anything

    doomed = _worker(home)
    _wait_for(lambda: any(store.evaluation_request(i).state == "running" for i in doors.values()))
    doomed.send_signal(signal.SIGKILL)  # dies holding a lease
    doomed.wait()
    racers = [_worker(home, "--drain") for _ in range(2)]
    for racer in racers:
        out, _ = racer.communicate(timeout=600)
        assert racer.returncode == 0, out

    for door, run_id in doors.items():
        request = store.evaluation_request(run_id)
        assert request.state == "done", (door, request)
        kinds = [e.kind for e in store.list_events(run_id)]
        assert kinds.count("evaluation_finished") == 1, (door, kinds)
        rows = store.list_evaluations(model_id=run_id)
        assert rows and len(rows) == len({r.task for r in rows}), door  # each task recorded once
        assert {r.domain for r in rows} == {"math", "general"}
        assert all(r.executed_by.value == "platform" for r in rows)
        assert store.get_run(run_id).evaluated_at is not None
    assert max(store.evaluation_request(i).attempts for i in doors.values()) == 2  # the killed one's, retried
