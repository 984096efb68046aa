"""The Ray executor against a real local Ray head: run, fail, cancel, reap, logs, and what a job holds."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import time

import httpx
import pytest

from hubkit import jobs
from hubkit.jobs.rayhead import LocalHead
from tests.jobs.conftest import NOTEBOOKS, POINTS, JobHub
from tests.jobs.helpers import archived_notebook, freeze, outputs_text, wait_until, worker_pid

pytestmark = pytest.mark.slow
LOOPBACK_ADDRESSES = {"127.0.0.1", "::ffff:127.0.0.1", "::1"}


def _submit(hub: JobHub, **params: object):  # type: ignore[no-untyped-def]
    return jobs.submit(notebook=POINTS, parameters=params, owner="alice", store=hub.store, settings=hub.settings)


def test_ray_job_runs_and_archives(ray_hub: JobHub) -> None:
    job = _submit(ray_hub, n_points=3)
    assert job.executor == "ray" and job.external_id.startswith("hubkit-job-")
    job = jobs.wait(job.id, timeout_s=180, store=ray_hub.store, settings=ray_hub.settings)
    assert job.state.value == "succeeded", job.error
    run = ray_hub.store.get_run(job.model_id)
    assert run.training_outcome.value == "success" and len(run.loss_curve_data) == 3
    assert run.artifacts["notebook"] == ray_hub.store.list_notebook_runs(job_id=job.id)[0].archive_hash
    assert "success" in outputs_text(archived_notebook(ray_hub.store, ray_hub.settings, job))
    assert "Executing Cell" in jobs.logs(job.id, store=ray_hub.store, settings=ray_hub.settings)


def test_ray_job_failure_keeps_the_traceback(ray_hub: JobHub) -> None:
    job = _submit(ray_hub, n_points=3, fail_at=1)
    job = jobs.wait(job.id, timeout_s=180, store=ray_hub.store, settings=ray_hub.settings)
    assert job.state.value == "failed" and "failing at point 1" in job.error
    assert "RuntimeError" in outputs_text(archived_notebook(ray_hub.store, ray_hub.settings, job))


def test_ray_cancel_ends_the_run_partial(ray_hub: JobHub) -> None:
    job = _submit(ray_hub, n_points=500, sleep_s=0.1)
    wait_until(lambda: (j := ray_hub.store.get_job(job.id)).model_id is not None
               and len(ray_hub.store.loss_points(j.model_id)) >= 3, timeout_s=180, what="first points")
    job = jobs.cancel(job.id, grace_s=30, store=ray_hub.store, settings=ray_hub.settings)
    assert job.state.value == "cancelled"
    executor = jobs.executor_for("ray", store=ray_hub.store, settings=ray_hub.settings)
    wait_until(lambda: len(ray_hub.store.list_notebook_runs(job_id=job.id)) == 1, timeout_s=60, what="archive")
    run = ray_hub.store.get_run(job.model_id)
    assert run.training_outcome.value == "partial" and len(run.loss_curve_data) < 500
    assert executor.client.get_job_status(job.external_id).value in {"SUCCEEDED", "STOPPED", "FAILED"}


@pytest.mark.races("the worker is frozen at an arbitrary instant, possibly inside a database write, "
                   "and raced against the heartbeat timeout on a loaded machine")
def test_hung_ray_job_is_reaped_as_lost(ray_hub: JobHub) -> None:
    job = _submit(ray_hub, n_points=500, sleep_s=0.1)
    wait_until(lambda: (j := ray_hub.store.get_job(job.id)).model_id is not None
               and len(ray_hub.store.loss_points(j.model_id)) >= 2, timeout_s=180, what="first points")
    groups = freeze(worker_pid(job.id, ray_hub.settings))
    time.sleep(ray_hub.settings.heartbeat_timeout_s + 1.5)
    executor = jobs.executor_for("ray", store=ray_hub.store, settings=ray_hub.settings)
    try:
        assert executor.reap() == [job.id]
    finally:
        for group in groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
    job = ray_hub.store.get_job(job.id)
    assert job.state.value == "lost"
    run = ray_hub.store.get_run(job.model_id)
    assert (run.training_outcome.value, run.failure_class) == ("failure", "lost")
    assert len(run.loss_curve_data) >= 2
    wait_until(lambda: executor.client.get_job_status(job.external_id).value in {"STOPPED", "FAILED"},
               timeout_s=60, what="ray stop")


def test_a_ray_job_holds_only_its_token_and_it_opens_only_its_own_job(ray_hub: JobHub) -> None:
    """The attacker's view from a notebook cell on Ray: no database, no platform token, no other job."""
    hub = ray_hub
    bobs_job = hub.store.create_job(owner="bob", kind="notebook", notebook="train", parameters={}, resources={},
                                    executor="elsewhere")
    alices_other = hub.store.create_job(owner="alice", kind="notebook", notebook="train", parameters={},
                                        resources={}, executor="elsewhere")
    bobs_run = hub.store.create_run(owner="bob", name="bobs", domain="general", base_model="llama3-standin",
                                    seed=0, config={})
    job = jobs.submit(notebook=str(NOTEBOOKS / "trespass.ipynb"), owner="alice", store=hub.store,
                      settings=hub.settings, parameters={"other_jobs": [bobs_job.id, alices_other.id],
                                                         "other_run": bobs_run.id})
    job = jobs.wait(job.id, timeout_s=180, store=hub.store, settings=hub.settings)
    assert job.state.value == "succeeded", jobs.logs(job.id, store=hub.store, settings=hub.settings)
    printed = outputs_text(archived_notebook(hub.store, hub.settings, job))
    report = json.loads(next(line for line in printed.splitlines() if line.startswith("TRESPASS "))[9:])

    env = report["environment"]
    values = "\n".join(env.values())
    for name in ("HUBKIT_DB_URL", "HUBKIT_ARCHIVE_URL", "HUBKIT_ALLOW_CODE_EXECUTION", "HUBKIT_JOB_TOKEN",
                 "JUPYTERHUB_COOKIE_SECRET", "HUBKIT_RAY_ADDRESS"):
        assert name not in env
    for database in ("sqlite", "postgresql", hub.settings.database_url):
        assert database not in values
    assert not any(token in values for token in hub.tokens.values())  # no hub, service or platform token
    token = env["JUPYTERHUB_API_TOKEN"]
    assert token.startswith(f"hkjob-{job.id}-") and env["HUBKIT_SERVICE_URL"] == hub.settings.job_service_url

    # its run went through the service, as alice's, and the worker linked it to the job through the service
    assert report["store"] == "ApiStore"
    run = hub.store.get_run(report["run"])
    assert (run.owner, run.executed_by.value, run.training_outcome.value) == ("alice", "user", "success")
    assert job.model_id == run.id and run.artifacts["notebook"] == hub.store.list_notebook_runs(job_id=job.id)[0].archive_hash

    # another user's job and run, and another job of its own owner's: as if they did not exist
    assert set(report["tries"].values()) == {404}, report["tries"]
    assert [hub.store.get_job(j.id).state.value for j in (bobs_job, alices_other)] == ["queued", "queued"]
    bobs = hub.store.get_run(bobs_run.id)
    assert (bobs.status.value, hub.store.loss_points(bobs.id)) == ("running", [])

    # the job has ended: its token opens nothing any more, not even its own job
    for path in ("/v1/me", f"/v1/jobs/{job.id}"):
        answer = httpx.get(hub.settings.job_service_url + path, headers={"Authorization": f"token {token}"})
        assert answer.status_code == 401, path
    for other in (bobs_job, alices_other):
        hub.store.update_job(other.id, state="cancelled", error="end of test")


def test_local_head_listens_on_loopback_only(local_ray_head: LocalHead) -> None:
    import psutil

    group = local_ray_head.process.pid
    pids = {p.pid for p in psutil.process_iter() if _in_group(p, group)}
    listening = [c for c in psutil.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.pid in pids]
    ports = {c.laddr.port for c in listening}
    assert int(local_ray_head.address.rsplit(":", 1)[1]) in ports  # the dashboard / Jobs API
    assert local_ray_head.client_port in ports and int(local_ray_head.gcs_address.rsplit(":", 1)[1]) in ports
    exposed = [(c.laddr.ip, c.laddr.port) for c in listening if c.laddr.ip not in LOOPBACK_ADDRESSES]
    assert exposed == []


def _in_group(process, group: int) -> bool:  # type: ignore[no-untyped-def]
    try:
        return os.getpgid(process.pid) == group
    except ProcessLookupError:
        return False
