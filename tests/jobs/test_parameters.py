"""Bad parameters are refused before anything is queued, with one plain sentence."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from hubkit import jobs
from hubkit.errors import NotFound, UnsafePath, ValidationError
from hubkit.jobs import notebooks
from hubkit.jobs.parameters import parse_cli_value
from tests.jobs.conftest import POINTS, JobHub


def _submit(hub: JobHub, params: dict, **kw):  # type: ignore[no-untyped-def]
    return jobs.submit(notebook=kw.pop("notebook", POINTS), parameters=params, owner="alice",
                       store=hub.store, settings=hub.settings, **kw)


def test_parameters_cell_is_read_with_types_and_help() -> None:
    source = notebooks.load(Path(POINTS), ref=POINTS)
    assert source.kind == "train" and source.template == "points" and source.template_version == "1"
    n = source.parameters["n_points"]
    assert (n.default, n.type_name, n.help) == (5, "int", "how many loss points")
    assert source.parameters["sleep_s"].type_name == "float"
    assert source.parameters["base_model"].type_name == "str"


@pytest.mark.parametrize("params,field,words", [
    ({"n_points": "many"}, "n_points", "must be a whole number; you gave 'many'"),
    ({"n_points": True}, "n_points", "must be a whole number"),
    ({"sleep_s": "fast"}, "sleep_s", "must be a number"),
    ({"npoints": 3}, "npoints", "has no parameter 'npoints'; it takes: base_model, n_points"),
    ({"base_model": "gpt-17"}, "base_model", "There is no base model 'gpt-17'; choose one of: llama3-standin"),
    ({"seed": -3}, "seed", "Seed ('seed') must be greater than or equal to 0; you gave -3."),
])
def test_bad_parameter_is_refused_before_queueing(job_hub: JobHub, params: dict, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        _submit(job_hub, params)
    assert err.value.field == field
    assert words in err.value.message
    assert job_hub.store.list_jobs() == []


def test_a_float_parameter_accepts_a_whole_number(job_hub: JobHub, monkeypatch: pytest.MonkeyPatch) -> None:
    queued = []
    executor = jobs.executor_for("local", store=job_hub.store, settings=job_hub.settings)
    monkeypatch.setattr(executor, "enqueue", queued.append)  # check the row only; nothing runs
    job = _submit(job_hub, {"sleep_s": 0, "n_points": 2})
    assert job.parameters == {"sleep_s": 0, "n_points": 2} and queued[0].id == job.id


def test_notebook_without_parameters_cell_is_refused(job_hub: JobHub, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("x = 1"))
    path = tmp_path / "plain.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ValidationError, match="has no cell tagged 'parameters'"):
        _submit(job_hub, {}, notebook=str(path))
    assert job_hub.store.list_jobs() == []


@pytest.mark.parametrize("ref,error", [
    ("template:../../etc/passwd", ValidationError),
    ("template:Nope!", ValidationError),
    ("template:does-not-exist", NotFound),
    ("archive:../x", UnsafePath),
    ("archive:" + "0" * 64, NotFound),
    ("/no/such/notebook.ipynb", NotFound),
    ("rm -rf", NotFound),
])
def test_notebook_references_are_checked(job_hub: JobHub, ref: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        _submit(job_hub, {}, notebook=ref)


def test_paths_can_be_refused(job_hub: JobHub) -> None:
    with pytest.raises(NotFound):
        notebooks.resolve(POINTS, settings=job_hub.settings, allow_paths=False)


@pytest.mark.parametrize("resources,field", [({"gpus": -1}, "gpus"), ({"cpu": 2}, "cpu"), ({"cpus": 0}, "cpus")])
def test_bad_resources_are_refused(job_hub: JobHub, resources: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        _submit(job_hub, {}, resources=resources)
    assert err.value.field == field and job_hub.store.list_jobs() == []


def test_cli_values_are_yaml_scalars() -> None:
    assert parse_cli_value("3") == 3
    assert parse_cli_value("0.5") == 0.5
    assert parse_cli_value("true") is True
    assert parse_cli_value("llama3-standin") == "llama3-standin"
    assert parse_cli_value("[1, 2]") == [1, 2]
    assert parse_cli_value("{a: [") == "{a: ["
