"""Reruns repeat the archived notebook exactly; templates are checked before they are published."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hubkit import jobs
from hubkit.errors import Conflict, JobError, NotFound, ValidationError
from hubkit.jobs.templates import list_templates, publish
from tests.jobs.conftest import POINTS, JobHub


def _edit_parameters(path: Path, new_source: str) -> None:
    nb = json.loads(path.read_text())
    (cell,) = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    cell["source"] = new_source
    path.write_text(json.dumps(nb))


def _edit_metadata(path: Path, **changes: object) -> None:
    nb = json.loads(path.read_text())
    nb["metadata"]["hubkit"].update(changes)
    path.write_text(json.dumps(nb))


@pytest.mark.slow
def test_rerun_repeats_the_archived_notebook_with_the_same_curve(job_hub: JobHub, tmp_path: Path) -> None:
    notebook = tmp_path / "points.ipynb"
    shutil.copy(POINTS, notebook)
    first = jobs.submit(notebook=str(notebook), parameters={"n_points": 4, "seed": 3}, owner="alice",
                        store=job_hub.store, settings=job_hub.settings)
    first = jobs.wait(first.id, timeout_s=120, store=job_hub.store, settings=job_hub.settings)
    assert first.state.value == "succeeded", first.error
    notebook.unlink()  # the rerun must not need the original file: it runs the archived copy
    with pytest.raises(NotFound):  # someone else's private run is not there for bob
        jobs.rerun(first.model_id, owner="bob", store=job_hub.store, settings=job_hub.settings)
    job_hub.store.set_visibility(first.model_id, "public", actor="alice")
    with pytest.raises(NotFound, match="no archived notebook"):  # public, but its code is alice's
        jobs.rerun(first.model_id, owner="bob", store=job_hub.store, settings=job_hub.settings)

    again = jobs.rerun(first.model_id, owner="alice", store=job_hub.store, settings=job_hub.settings)
    again = jobs.wait(again.id, timeout_s=120, store=job_hub.store, settings=job_hub.settings)
    assert again.state.value == "succeeded", again.error
    assert again.model_id != first.model_id
    old, new = (job_hub.store.get_run(j.model_id) for j in (first, again))
    assert [p["loss"] for p in new.loss_curve_data] == [p["loss"] for p in old.loss_curve_data]
    assert new.owner == "alice" and new.template == "points"
    (original,) = job_hub.store.list_notebook_runs(job_id=first.id)
    (repeat,) = job_hub.store.list_notebook_runs(job_id=again.id)
    assert repeat.rerun_of == original.id and repeat.parameters == original.parameters
    assert repeat.notebook == f"archive:{original.archive_hash}"


def test_rerun_of_a_run_without_a_notebook_is_explained(job_hub: JobHub) -> None:
    run = job_hub.store.create_run(owner="alice", name="by hand", domain="math", base_model="llama3-standin")
    with pytest.raises(NotFound, match="was not made by a notebook job"):
        jobs.rerun(run.id, owner="alice", store=job_hub.store, settings=job_hub.settings)


@pytest.mark.slow
def test_publish_checks_then_adds_to_the_gallery(job_hub: JobHub, tmp_path: Path) -> None:
    candidate = tmp_path / "mine.ipynb"
    shutil.copy(POINTS, candidate)
    _edit_metadata(candidate, name="class-points", version="2")
    _edit_parameters(candidate, "base_model = 'llama3-standin'\nn_points = 2\nsleep_s = 0.0\nseed = 1\nfail_at = -1")
    info = publish(candidate, owner="alice", store=job_hub.store, settings=job_hub.settings)
    assert (info.name, info.version, info.origin) == ("class-points", "2", "gallery")
    assert info.path == job_hub.settings.home.resolve() / "templates" / "class-points.ipynb"
    assert "class-points" in [t.name for t in list_templates(settings=job_hub.settings)]
    check_run = job_hub.store.list_runs(owner="alice")[0]
    assert (check_run.template, check_run.template_version) == ("class-points", "2")

    with pytest.raises(Conflict, match="raise the version"):
        publish(candidate, owner="alice", store=job_hub.store, settings=job_hub.settings)

    job = jobs.submit(notebook="template:class-points", parameters={"n_points": 1}, owner="bob",
                      store=job_hub.store, settings=job_hub.settings)
    job = jobs.wait(job.id, timeout_s=120, store=job_hub.store, settings=job_hub.settings)
    assert job.state.value == "succeeded"
    (nb_run,) = job_hub.store.list_notebook_runs(job_id=job.id)
    assert (nb_run.template, nb_run.template_version) == ("class-points", "2")


@pytest.mark.slow
def test_publish_refuses_a_template_that_fails_with_its_defaults(job_hub: JobHub, tmp_path: Path) -> None:
    candidate = tmp_path / "broken.ipynb"
    shutil.copy(POINTS, candidate)
    _edit_metadata(candidate, name="broken")
    _edit_parameters(candidate, "base_model = 'llama3-standin'\nn_points = 2\nsleep_s = 0.0\nseed = 1\nfail_at = 1")
    with pytest.raises(JobError, match="did not run cleanly"):
        publish(candidate, owner="alice", store=job_hub.store, settings=job_hub.settings)
    assert "broken" not in [t.name for t in list_templates(settings=job_hub.settings)]
    assert not list((job_hub.settings.home / "templates").glob("*.ipynb"))


@pytest.mark.parametrize("change,words", [
    ({"template": False}, "is not marked as a template"),
    ({"name": "../evil"}, "is not a valid template name"),
    ({"version": None}, "has no version"),
    ({"description": ""}, "has no description"),
])
def test_publish_checks_metadata_before_running(job_hub: JobHub, tmp_path: Path, change: dict, words: str) -> None:
    candidate = tmp_path / "bad.ipynb"
    shutil.copy(POINTS, candidate)
    _edit_metadata(candidate, **change)
    with pytest.raises(ValidationError, match=words):
        publish(candidate, owner="alice", store=job_hub.store, settings=job_hub.settings)
    assert job_hub.store.list_jobs() == []


def test_publish_requires_a_parameters_cell(job_hub: JobHub, tmp_path: Path) -> None:
    candidate = tmp_path / "noparams.ipynb"
    shutil.copy(POINTS, candidate)
    nb = json.loads(candidate.read_text())
    for cell in nb["cells"]:
        cell["metadata"]["tags"] = []
    candidate.write_text(json.dumps(nb))
    with pytest.raises(ValidationError, match="has no cell tagged 'parameters'"):
        publish(candidate, owner="alice", store=job_hub.store, settings=job_hub.settings)


def test_rerun_refuses_a_damaged_archived_notebook(job_hub: JobHub) -> None:
    from hubkit.archive import NOTEBOOKS, open_archive
    from hubkit.errors import ArchiveIntegrityError

    digest = open_archive(job_hub.settings.archive_root, namespace=NOTEBOOKS).put_file(Path(POINTS))
    run = job_hub.store.create_run(owner="alice", name="points", domain="general", base_model="llama3-standin")
    job_hub.store.record_notebook_run(notebook=POINTS, parameters={"n_points": 2}, archive_hash=digest,
                                      succeeded=True, model_id=run.id)
    stored = Path(job_hub.settings.archive_root) / NOTEBOOKS / digest[:2] / digest
    stored.write_bytes(stored.read_bytes().replace(b"n_points = 5", b"n_points = 9"))
    with pytest.raises(ArchiveIntegrityError):
        jobs.rerun(run.id, owner="alice", store=job_hub.store, settings=job_hub.settings)
    assert job_hub.store.list_jobs() == []
