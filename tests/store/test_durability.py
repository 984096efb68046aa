"""Records survive kill -9 and many concurrent writers, on both backends."""
from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import textwrap

import pytest

from hubkit.db import upgrade
from hubkit.store import LocalStore
from tests.fixtures.db import seed_minimal

STREAMER = textwrap.dedent("""
    import sys
    from hubkit.store import LocalStore
    store = LocalStore(sys.argv[1])
    run = store.create_run(owner="alice", name="doomed", domain="math", base_model="llama3-standin")
    print("run", run.id, flush=True)
    step = 0
    while True:
        step += 1
        store.append_points(run.id, [{"step": step, "loss": 10.0 / step, "lr": 1e-3}])
        print("committed", step, flush=True)
""")


@pytest.mark.slow
def test_sigkill_mid_stream_loses_nothing_committed(empty_db_url):
    upgrade(empty_db_url)
    store = LocalStore(empty_db_url)
    seed_minimal(store)
    rng = random.Random(1234)
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-c", STREAMER, empty_db_url], stdout=subprocess.PIPE, text=True)
        run_id = int(proc.stdout.readline().split()[1])
        kill_after = rng.randint(1, 40)
        last = 0
        while last < kill_after:
            last = int(proc.stdout.readline().split()[1])
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert run_id in store.reap(stale_after_s=0)
        run = store.get_run(run_id)
        assert run.training_outcome.value == "failure" and run.failure_class == "lost"
        steps = [p["step"] for p in run.loss_curve_data]
        assert steps == list(range(1, len(steps) + 1))  # a clean prefix, no gaps, nothing torn
        assert len(steps) >= last  # every point acknowledged before the kill is there
        assert run.finished_at is not None


def _writer(url: str, worker: int, n_runs: int, queue: mp.Queue) -> None:
    errors = []
    store = LocalStore(url)
    for i in range(n_runs):
        try:
            run = store.create_run(owner="alice", name=f"w{worker}-{i}", domain="math", base_model="llama3-standin")
            store.append_points(run.id, [{"step": s, "loss": 1.0 / s} for s in range(1, 4)])
            store.finish_run(run.id, outcome="success")
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            errors.append(repr(exc))
    queue.put(errors)


@pytest.mark.slow
def test_eight_concurrent_writers_lose_nothing(empty_db_url):
    upgrade(empty_db_url)
    store = LocalStore(empty_db_url)
    seed_minimal(store)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_writer, args=(empty_db_url, w, 100, queue)) for w in range(8)]
    for p in workers:
        p.start()
    errors = [e for _ in workers for e in queue.get(timeout=600)]
    for p in workers:
        p.join(timeout=60)
    assert errors == []
    runs = store.list_runs(limit=10_000)
    assert len(runs) == 800
    assert all(r.training_outcome.value == "success" and len(r.loss_curve_data) == 3 for r in runs)
