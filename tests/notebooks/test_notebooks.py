"""The platform notebooks and the templates: readable, parameterised, and they run.

The nbval run is the same command a person can type:
``pytest --nbval-lax notebooks/ templates/`` against a hub with the stand-ins.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hubkit.jobs import context, notebooks
from hubkit.jobs.templates import check_template, list_templates

REPO = Path(__file__).resolve().parents[2]
PLATFORM = sorted((REPO / "notebooks").glob("*.ipynb"))
TEMPLATES = sorted((REPO / "templates").glob("*.ipynb"))


def test_there_are_two_platform_notebooks_and_at_least_four_templates() -> None:
    assert [p.stem for p in PLATFORM] == ["evaluate", "train"]
    assert len(TEMPLATES) >= 4


@pytest.mark.parametrize("path", PLATFORM + TEMPLATES, ids=lambda p: p.name)
def test_notebook_reads_as_documentation_and_is_committed_clean(path: Path) -> None:
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    markdown = [c for c in cells if c["cell_type"] == "markdown"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert len(markdown) >= len(code) - 2, "explain each step in markdown"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "commit without outputs"
    source = notebooks.load(path, ref=str(path))
    assert source.parameters, "needs a cell tagged 'parameters'"
    assert source.version and source.description
    body = "".join("".join(c["source"]) for c in code)
    assert "figure" in body or "px." in body, "shows a plotly chart"
    assert "def " not in body and "class " not in body, "logic belongs in hubkit, not in the notebook"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_passes_the_publish_checks(path: Path) -> None:
    source = check_template(path)
    assert source.name == path.stem


def test_shipped_templates_are_listed(hub_home: Path) -> None:
    names = {t.name: t for t in list_templates()}
    assert {p.stem for p in TEMPLATES} <= set(names)
    assert all(names[p.stem].origin == "shipped" for p in TEMPLATES)


def test_a_template_opened_by_hand_still_records_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(context.ENV_JOB_ID, raising=False)
    monkeypatch.setenv("JPY_SESSION_NAME", str(REPO / "templates" / "first-finetune.ipynb"))
    ctx = context.current()
    assert (ctx.template, ctx.template_version, ctx.executed_by) == ("first-finetune", "1", "user")
    monkeypatch.setenv("JPY_SESSION_NAME", str(REPO / "notebooks" / "train.ipynb"))
    assert context.current().template is None  # a platform notebook is not a template


@pytest.mark.slow
def test_nbval_runs_every_notebook_and_template(standin_env: Path, tmp_path: Path) -> None:
    from hubkit.bootstrap import init_platform

    store = init_platform()
    store.ensure_user("student", role="developer")
    env = {**os.environ, "HUBKIT_HOME": str(standin_env), "JUPYTERHUB_USER": "student"}
    env.pop("HUBKIT_DB_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         f"--rootdir={REPO}", "notebooks/", "templates/"],
        check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    runs = store.list_runs(owner="student")
    assert runs and all(r.training_outcome is not None for r in runs)
    assert all(r.executed_by.value == "user" for r in runs)


@pytest.mark.slow
def test_templates_run_on_a_fresh_home_before_hubkit_init(standin_env: Path, tmp_path: Path) -> None:
    """No ``hubkit init``: the first template creates the database, the next trains on it."""
    import papermill as pm

    assert not (standin_env / "hubkit.db").exists()
    for name, parameters in (("query-runs-pandas", {}), ("first-finetune", {"max_steps": 2, "example_rows": 16})):
        pm.execute_notebook(str(REPO / "templates" / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                            parameters=parameters, cwd=str(tmp_path), progress_bar=False)
    from hubkit.store import open_store

    (run,) = open_store().list_runs()
    assert run.training_outcome.value == "success" and run.owner  # its owner was registered on first use too
