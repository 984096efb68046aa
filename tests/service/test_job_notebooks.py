"""What a job may run: the attack of a notebook uploaded as data, and archived notebooks of others."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubkit.archive import NOTEBOOKS, open_archive
from tests.jobs.conftest import POINTS


def _notebook_as_text(marker: Path) -> bytes:
    """An nbformat notebook whose only cell would leave ``marker`` behind if it ever ran."""
    cell = {"cell_type": "code", "execution_count": None, "id": "pwn", "outputs": [],
            "metadata": {"tags": ["parameters"]}, "source": f"x = 1\nopen({str(marker)!r}, 'w').write('ran')"}
    nb = {"cells": [cell], "metadata": {"hubkit": {"name": "notes", "kind": "notebook"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb).encode()


def _submit(svc, who: str, digest: str):
    return svc.http(who).post("/v1/jobs", json={"notebook": f"archive:{digest}", "parameters": {"x": 2}})


def test_a_notebook_uploaded_as_a_dataset_can_never_run(svc, tmp_path: Path):
    marker = tmp_path / "ran"
    up = svc.http("alice").put("/v1/datasets/upload", content=_notebook_as_text(marker),
                               params={"filename": "notes.txt"},
                               headers={"Content-Type": "application/octet-stream"})
    assert up.status_code == 201, up.text  # valid text data: accepted as data, and only as data
    digest = up.json()["content_hash"]
    missing = _submit(svc, "alice", "0" * 64)

    for who in ("alice", "bob"):
        r = _submit(svc, who, digest)
        assert r.status_code == 404, r.text
        assert r.text == missing.text.replace("0" * 64, digest)  # answered exactly as a missing one

    # even a notebook-run record naming those bytes for alice's own run does not make them runnable:
    # notebooks are read only from the archive's notebook namespace
    run = svc.local.create_run(owner="alice", name="mine", domain="math", base_model="llama3-standin")
    svc.local.record_notebook_run(notebook="train", parameters={}, archive_hash=digest, succeeded=True,
                                  model_id=run.id)
    assert _submit(svc, "alice", digest).status_code == 404
    assert svc.local.list_jobs() == [] and not marker.exists()


def test_only_the_owner_may_run_an_archived_notebook_of_theirs(svc):
    digest = open_archive(svc.settings.archive_root, namespace=NOTEBOOKS).put_file(Path(POINTS))
    run = svc.local.create_run(owner="alice", name="points", domain="general", base_model="llama3-standin")
    svc.local.record_notebook_run(notebook="x", parameters={}, archive_hash=digest, succeeded=True,
                                  model_id=run.id)
    svc.local.set_visibility(run.id, "public", actor="alice")  # seen by everyone, still alice's code
    for who in ("bob", "root"):
        r = _submit(svc, who, digest)
        assert r.status_code == 404 and r.json()["error"] == f"There is no archived notebook {digest}."
    assert svc.local.list_jobs() == []


def test_paths_and_unknown_names_are_not_notebooks_a_job_can_name(svc):
    for ref in (str(POINTS), "../notebooks/train.ipynb", "/etc/passwd", "notes"):
        r = svc.http("alice").post("/v1/jobs", json={"notebook": ref, "parameters": {}})
        assert r.status_code == 404, (ref, r.text)
    assert svc.http("alice").post("/v1/jobs", json={"notebook": "archive:../x", "parameters": {}}).status_code == 400
    assert svc.local.list_jobs() == []


def test_ids_among_a_jobs_parameters_are_checked_for_its_owner(svc):
    data = svc.local.register_dataset(owner="alice", name="alice's data", fingerprint="ab" * 32, format="text",
                                      n_rows=1)
    run = svc.local.create_run(owner="alice", name="alice's run", domain="math", base_model="llama3-standin")
    for notebook, parameters in (("train", {"dataset_id": data.id}), ("train", {"parent_model_id": run.id}),
                                 ("evaluate", {"run_id": run.id})):
        r = svc.http("bob").post("/v1/jobs", json={"notebook": notebook, "parameters": parameters})
        assert r.status_code == 404 and r.json()["type"] == "NotFound", (parameters, r.text)
        assert "ab" * 32 not in r.text
    assert svc.local.list_jobs() == []


def test_executed_notebooks_are_read_through_the_service_by_who_may_see_them(svc):
    from hubkit.errors import NotFound, PermissionDenied
    from hubkit.store.api_archive import ApiArchive

    data = Path(POINTS).read_bytes()
    digest = open_archive(svc.settings.archive_root, namespace=NOTEBOOKS).put_bytes(data)
    job = svc.local.create_job(owner="alice", kind="notebook", notebook="train", parameters={})
    svc.local.record_notebook_run(notebook="train", parameters={}, archive_hash=digest, succeeded=True, job_id=job.id)
    mine = ApiArchive(svc.url, token=svc.tokens["alice"], namespace=NOTEBOOKS)
    assert mine.get_bytes(digest) == data
    with pytest.raises(NotFound):
        ApiArchive(svc.url, token=svc.tokens["bob"], namespace=NOTEBOOKS).get_bytes(digest)
    with pytest.raises(PermissionDenied):  # only the platform archives executed notebooks
        mine.put_bytes(data)
    assert svc.http("alice").get(f"/v1/archive/{digest}").status_code == 404  # not among uploads
