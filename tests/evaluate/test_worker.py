"""A finished run is evaluated exactly once, whoever sees the event."""
from __future__ import annotations

import multiprocessing
import threading

import pytest

from hubkit.evaluate import on_run_finished
from hubkit.store import LocalStore
from tests.evaluate.conftest import EvalWorld

QUICK = {"domains": ["general"], "limit": 3, "suite": "offline"}


def test_two_workers_seeing_the_same_event_evaluate_it_once(world: EvalWorld) -> None:
    run = world.finished_run()
    barrier = threading.Barrier(2)
    reports: list[object] = []

    def worker() -> None:
        store = LocalStore(world.settings.database_url)
        barrier.wait()
        reports.append(on_run_finished(store, run.id, **QUICK))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in reports) == 1
    assert len(world.store.list_evaluations(model_id=run.id)) == 1
    kinds = [e.kind for e in world.store.list_events(run.id)]
    assert kinds.count("evaluation_started") == 1 and kinds.count("evaluation_finished") == 1
    assert on_run_finished(world.store, run.id, **QUICK) is None  # a late third worker
    assert world.store.get_run(run.id).evaluated_at is not None


@pytest.mark.parametrize("outcome", ["success", "partial", "failure"])
def test_every_outcome_with_an_adapter_is_evaluated_with_its_base_as_baseline(world: EvalWorld, outcome: str) -> None:
    run = world.finished_run(outcome=outcome)
    report = on_run_finished(world.store, run.id, **QUICK)
    assert report is not None and report.score("general").status == "scored"
    row = world.store.list_evaluations(model_id=run.id)[0]
    assert row.delta_base is not None  # the base model was scored first, under the same stamp


def test_runs_without_an_adapter_or_still_running_are_left_alone(world: EvalWorld) -> None:
    no_adapter = world.finished_run(outcome="failure", adapter=False)
    assert on_run_finished(world.store, no_adapter.id, **QUICK) is None
    assert world.store.get_run(no_adapter.id).evaluated_at is None
    running = world.store.create_run(owner="alice", name="busy", domain="math", base_model="llama3-standin")
    assert on_run_finished(world.store, running.id, **QUICK) is None
    assert world.store.list_evaluations(model_id=running.id) == []


def _process_worker(url: str, run_id: int, home: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    import os

    os.environ["HUBKIT_HOME"] = home
    os.environ["HUBKIT_ALLOW_CODE_EXECUTION"] = "0"
    from hubkit.evaluate.worker import on_run_finished as trigger
    from hubkit.store import LocalStore as Local

    store = Local(url)
    barrier.wait()
    results.put(trigger(store, run_id, domains=["code"]) is not None)


@pytest.mark.slow
def test_two_processes_seeing_the_same_event_evaluate_it_once(world: EvalWorld) -> None:
    run = world.finished_run()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_process_worker,
                         args=(world.settings.database_url, run.id, str(world.settings.home), barrier, results))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert sorted(results.get(timeout=5) for _ in procs) == [False, True]
    assert len(world.store.list_evaluations(model_id=run.id)) == 2  # the two code tasks, once


@pytest.mark.slow
def test_a_stopped_worker_ends_at_once_and_hands_its_scoring_back(world: EvalWorld) -> None:
    """SIGTERM mid-scoring: the worker exits within seconds and the run is queued again, untried."""
    import os
    import signal
    import subprocess
    import sys
    import time

    run = world.finished_run()
    env = {**os.environ, "HUBKIT_HOME": str(world.settings.home), "HUBKIT_DB_URL": world.settings.database_url,
           "HUBKIT_ALLOW_CODE_EXECUTION": "0"}
    worker = subprocess.Popen([sys.executable, "-m", "hubkit.cli", "serve", "eval-worker"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while (req := world.store.evaluation_request(run.id)) is None or req.state != "running":
            assert worker.poll() is None and time.monotonic() < deadline, "the worker never claimed the run"
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        started = time.monotonic()
        output, _ = worker.communicate(timeout=20)
        assert time.monotonic() - started < 20
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, output
    assert "went back to the queue" in output
    req = world.store.evaluation_request(run.id)
    assert req is not None and req.state == "queued" and req.attempts == 0
    assert world.store.list_evaluations(model_id=run.id) == []
    assert on_run_finished(world.store, run.id, **QUICK) is not None  # the next worker scores it
