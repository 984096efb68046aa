"""The local executor end to end: run, fail, cancel, reap, limits and restart recovery."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hubkit import jobs
from hubkit.jobs.executors import create_executor
from tests.jobs.conftest import POINTS, JobHub
from tests.jobs.helpers import archived_notebook, freeze, outputs_text, wait_until, worker_pid


def _submit(hub: JobHub, **params: object):  # type: ignore[no-untyped-def]
    return jobs.submit(notebook=POINTS, parameters=params, owner="alice", store=hub.store, settings=hub.settings)


def test_successful_job_archives_its_notebook_and_links_its_run(job_hub: JobHub) -> None:
    job = _submit(job_hub, n_points=3, seed=7)
    job = jobs.wait(job.id, timeout_s=120, store=job_hub.store, settings=job_hub.settings)
    assert job.state.value == "succeeded", job.error
    run = job_hub.store.get_run(job.model_id)
    assert run.training_outcome.value == "success"
    assert [p["step"] for p in run.loss_curve_data] == [1, 2, 3]
    assert (run.template, run.template_version) == ("points", "1")
    (nb_run,) = job_hub.store.list_notebook_runs(model_id=run.id)
    assert nb_run.succeeded and nb_run.job_id == job.id and nb_run.parameters == {"n_points": 3, "seed": 7}
    assert (nb_run.template, nb_run.template_version) == ("points", "1")
    assert run.artifacts["notebook"] == nb_run.archive_hash
    nb = archived_notebook(job_hub.store, job_hub.settings, job)
    assert "success" in outputs_text(nb)
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in nb["cells"])
    assert "Executing Cell" in jobs.logs(job.id, store=job_hub.store, settings=job_hub.settings)
    assert stat.S_IMODE(Path(job.log_path).stat().st_mode) == 0o600  # only the platform reads a job's log


def test_failing_cell_fails_the_job_and_archives_the_traceback(job_hub: JobHub) -> None:
    job = _submit(job_hub, n_points=4, fail_at=2)
    job = jobs.wait(job.id, timeout_s=120, store=job_hub.store, settings=job_hub.settings)
    assert job.state.value == "failed"
    assert "failing at point 2 as asked" in job.error
    nb = archived_notebook(job_hub.store, job_hub.settings, job)
    assert "RuntimeError" in outputs_text(nb)
    (nb_run,) = job_hub.store.list_notebook_runs(job_id=job.id)
    assert not nb_run.succeeded and nb_run.model_id == job.model_id
    run = job_hub.store.get_run(job.model_id)
    assert run.training_outcome.value == "failure" and len(run.loss_curve_data) == 2


def test_cancel_stops_the_run_as_partial_and_keeps_the_notebook(job_hub: JobHub) -> None:
    job = _submit(job_hub, n_points=500, sleep_s=0.1)
    wait_until(lambda: (j := job_hub.store.get_job(job.id)).model_id is not None
               and len(job_hub.store.loss_points(j.model_id)) >= 3, timeout_s=120, what="first points")
    job = jobs.cancel(job.id, grace_s=30, store=job_hub.store, settings=job_hub.settings)
    assert job.state.value == "cancelled"
    run = job_hub.store.get_run(job.model_id)
    assert run.training_outcome.value == "partial"
    assert 3 <= len(run.loss_curve_data) < 500
    (nb_run,) = job_hub.store.list_notebook_runs(job_id=job.id)
    assert not nb_run.succeeded
    assert "partial" in outputs_text(archived_notebook(job_hub.store, job_hub.settings, job))


@pytest.mark.slow
@pytest.mark.races("the worker is frozen at an arbitrary instant, possibly inside a database write, "
                   "and raced against the heartbeat timeout on a loaded machine")
def test_hung_job_is_reaped_as_lost_and_its_run_marked_lost(job_hub: JobHub) -> None:
    job = _submit(job_hub, n_points=500, sleep_s=0.1)
    wait_until(lambda: (j := job_hub.store.get_job(job.id)).model_id is not None
               and len(job_hub.store.loss_points(j.model_id)) >= 2, timeout_s=120, what="first points")
    groups = freeze(worker_pid(job.id, job_hub.settings))  # hung: alive, but no heartbeat and no points
    time.sleep(job_hub.settings.heartbeat_timeout_s + 1.5)
    executor = jobs.executor_for("local", store=job_hub.store, settings=job_hub.settings)
    assert executor.reap() == [job.id]
    job = job_hub.store.get_job(job.id)
    assert job.state.value == "lost"
    run = job_hub.store.get_run(job.model_id)
    assert (run.training_outcome.value, run.failure_class) == ("failure", "lost")
    assert len(run.loss_curve_data) >= 2  # every point logged before the hang is kept
    for group in groups:  # the reaper killed the worker and its kernel
        wait_until(lambda group=group: not _group_alive(group), timeout_s=10, what=f"group {group} killed")


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_concurrency_limit_queues_the_second_job(hub_home: Path) -> None:
    from tests.jobs.conftest import make_hub

    hub = make_hub(hub_home, max_concurrent_jobs=1)
    try:
        first = _submit(hub, n_points=3, sleep_s=0.3)
        second = _submit(hub, n_points=1)
        assert second.state.value == "queued" and second.external_id is None
        done = [jobs.wait(j.id, timeout_s=180, store=hub.store, settings=hub.settings) for j in (first, second)]
        assert [j.state.value for j in done] == ["succeeded", "succeeded"]
        assert done[1].started_at >= done[0].finished_at
    finally:
        jobs.shutdown()


@pytest.mark.slow
def test_restart_recovery_starts_queued_jobs(hub_home: Path) -> None:
    """A process queues two jobs with room for one, then dies; a new process recovers the queue."""
    from tests.jobs.conftest import make_hub

    hub = make_hub(hub_home, max_concurrent_jobs=1)
    script = textwrap.dedent(f"""
        import os
        import hubkit.jobs as jobs
        from hubkit.config import load_settings
        s = load_settings(max_concurrent_jobs=1, heartbeat_timeout_s=4.0)
        for n in (2, 1):
            jobs.submit(notebook={POINTS!r}, parameters={{"n_points": n, "sleep_s": 0.5}}, owner="alice", settings=s)
        os._exit(0)  # dies without waiting: the second job is still queued
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120, env=dict(os.environ))
    first, second = sorted(hub.store.list_jobs(), key=lambda j: j.id)
    assert second.state.value == "queued" and second.external_id is None
    executor = create_executor(store=hub.store, settings=hub.settings)
    try:
        recovery = executor.recover()
        assert recovery.lost == [] and recovery.failed == []
        done = [executor.wait(j.id, timeout_s=180) for j in (first, second)]
        assert [j.state.value for j in done] == ["succeeded", "succeeded"]
        assert done[1].started_at >= done[0].finished_at  # the limit held across the restart
    finally:
        executor.close()


@pytest.mark.slow
@pytest.mark.parametrize("slots,gpus,expected", [("0,1", 1, "0"), ("0,1", 0, "")])
def test_gpu_slot_reaches_the_kernel(hub_home: Path, slots: str, gpus: int, expected: str) -> None:
    from tests.jobs.conftest import make_hub

    hub = make_hub(hub_home, gpu_slots=slots)
    try:
        job = jobs.submit(notebook=POINTS, parameters={"n_points": 1}, owner="alice", resources={"gpus": gpus},
                          store=hub.store, settings=hub.settings)
        job = jobs.wait(job.id, timeout_s=120, store=hub.store, settings=hub.settings)
        assert job.state.value == "succeeded", job.error
        text = outputs_text(archived_notebook(hub.store, hub.settings, job))
        assert f"devices {expected}\n" in text
    finally:
        jobs.shutdown()
