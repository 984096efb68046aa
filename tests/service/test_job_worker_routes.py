"""A job token as a Ray job's worker uses it: its own job's bookkeeping, and nothing of anyone else's.

The token is minted as the Ray executor mints it; each call is the one the
worker makes through ``ApiStore``. Another job (of another user, or of the
same owner) answers 404, as if it did not exist; a final state spends the token.
"""
from __future__ import annotations

import json

import httpx
import pytest

from hubkit.errors import NotFound, PermissionDenied, ValidationError
from hubkit.jobs import notebooks, tokens
from hubkit.store.api import ApiStore
from tests.fixtures.service import RunningService


def _job(svc: RunningService, owner: str, *, notebook: str = "train"):  # type: ignore[no-untyped-def]
    return svc.local.create_job(owner=owner, kind="notebook", notebook=notebook, parameters={"max_steps": 3},
                                resources={}, executor="ray")


def _executed(source: bytes, *, change_code: bool = False) -> bytes:
    """The notebook as Papermill leaves it: parameters injected, outputs added."""
    nb = json.loads(source)
    cells = nb["cells"]
    at = next(i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    cells.insert(at + 1, {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "execution_count": 1,
                          "outputs": [], "source": "max_steps = 3\n"})
    code = [c for c in cells if c["cell_type"] == "code"]
    code[-1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "done\n"}]
    if change_code:
        code[-1]["source"] = "import os; os.system('id')\n"
    return json.dumps(nb).encode()


@pytest.fixture
def worker(svc: RunningService):  # type: ignore[no-untyped-def]
    job = _job(svc, "alice")
    token = tokens.mint(svc.settings, job.id, winds_down=True)
    store = ApiStore(svc.url, token=token)
    yield job, token, store
    store.close()


def test_a_job_token_records_its_own_job_through_the_service(svc: RunningService, worker) -> None:  # type: ignore[no-untyped-def]
    job, token, store = worker
    assert store.get_job(job.id).owner == "alice"
    assert store.claim_job(job.id) and store.update_job(job.id, heartbeat=True).state.value == "running"
    run = store.create_run(owner="alice", name="r", domain="general", base_model="llama3-standin", seed=0, config={})
    assert store.update_job(job.id, model_id=run.id).model_id == run.id

    source = store.job_notebook(job.id)
    assert source == notebooks.resolve("train", settings=svc.settings).path.read_bytes()
    with pytest.raises(ValidationError, match="code of the job's notebook"):
        store.archive_executed(job.id, _executed(source, change_code=True))
    digest = store.archive_executed(job.id, _executed(source))
    with pytest.raises(PermissionDenied):  # only the notebook it archived
        store.record_notebook_run(notebook="train", parameters={}, archive_hash="ab" * 32, succeeded=True,
                                  job_id=job.id, model_id=run.id)
    row = store.record_notebook_run(notebook="evaluate", parameters={"forged": 1}, archive_hash=digest,
                                    succeeded=True, job_id=job.id, model_id=run.id)
    assert (row.notebook, row.parameters) == ("train", {"max_steps": 3})  # the job's, whatever the body said

    store.update_job(job.id, state="succeeded", model_id=run.id)
    assert svc.local.get_job(job.id).state.value == "succeeded"
    assert httpx.get(f"{svc.url}/v1/me", headers={"Authorization": f"token {token}"}).status_code == 401


def test_a_job_token_reaches_no_other_job_and_no_platform_power(svc: RunningService, worker) -> None:  # type: ignore[no-untyped-def]
    job, _, store = worker
    bobs, alices_other = _job(svc, "bob"), _job(svc, "alice")
    bobs_run = svc.local.create_run(owner="bob", name="b", domain="general", base_model="llama3-standin",
                                    seed=0, config={})
    calls = [store.get_job, store.claim_job, lambda o: store.update_job(o, heartbeat=True), store.job_notebook,
             lambda o: store.archive_executed(o, b"{}"),
             lambda o: store.record_notebook_run(notebook="train", parameters={}, archive_hash="ab" * 32,
                                                 succeeded=True, job_id=o)]
    for other in (bobs.id, alices_other.id):
        for call in calls:
            with pytest.raises(NotFound):
                call(other)
    with pytest.raises(NotFound):
        store.update_job(job.id, model_id=bobs_run.id)  # a private run of bob's: as if missing
    with pytest.raises(PermissionDenied):
        store.update_job(job.id, external_id="elsewhere")
    with pytest.raises(PermissionDenied):
        store.update_job(job.id, state="lost")
    assert [j.state.value for j in (svc.local.get_job(bobs.id), svc.local.get_job(alices_other.id))] == ["queued"] * 2
    assert store.list_jobs() == [store.get_job(job.id)]  # its own job only, not every job of alice's
    assert svc.local.get_job(job.id).model_id is None


def test_a_winding_down_token_outlives_a_cancel_until_its_worker_ends(svc: RunningService, worker) -> None:  # type: ignore[no-untyped-def]
    job, token, store = worker
    plain = _job(svc, "alice")
    plain_token = tokens.mint(svc.settings, plain.id)
    for j in (job, plain):
        svc.local.claim_job(j.id)
        svc.local.update_job(j.id, state="cancelled", error="Cancelled by request.")

    def me(t: str) -> int:
        return httpx.get(f"{svc.url}/v1/me", headers={"Authorization": f"token {t}"}).status_code

    assert me(plain_token) == 401  # the kernel's token of a job that runs as its owner ends with the job
    assert store.update_job(job.id, heartbeat=True).state.value == "cancelled"  # the worker learns of it
    assert store.update_job(job.id, state="cancelled").state.value == "cancelled"
    assert me(token) == 401
