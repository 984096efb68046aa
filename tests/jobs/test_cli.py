"""``hubkit jobs`` from the terminal: submit with parameters, list, logs, cancel, errors."""
from __future__ import annotations

import pytest

from hubkit.cli import main
from tests.jobs.conftest import POINTS, JobHub


@pytest.mark.slow
def test_submit_list_logs(job_hub: JobHub, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "submit", POINTS, "-p", "n_points", "2", "-p", "seed", "5", "--owner", "alice"]) == 0
    out = capsys.readouterr().out
    (job,) = job_hub.store.list_jobs()
    assert f"job {job.id} succeeded" in out and f"run {job.model_id}" in out
    assert job.parameters == {"n_points": 2, "seed": 5}
    assert main(["jobs", "list"]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert main(["jobs", "logs", str(job.id)]) == 0
    assert "Executing Cell" in capsys.readouterr().out
    assert main(["jobs", "cancel", str(job.id)]) == 2
    assert "already ended" in capsys.readouterr().err


def test_bad_parameter_is_one_sentence_and_nothing_is_queued(job_hub: JobHub,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "submit", POINTS, "-p", "n_points", "lots", "--owner", "alice"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: The parameter 'n_points' of points must be a whole number; you gave 'lots'."
    assert job_hub.store.list_jobs() == []


def test_detached_submit_returns_at_once(job_hub: JobHub, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "submit", POINTS, "--owner", "alice", "--detach"]) == 0
    (job,) = job_hub.store.list_jobs()
    assert f"job {job.id} queued" in capsys.readouterr().out
    assert main(["jobs", "cancel", str(job.id), "--grace", "20"]) == 0
    assert job_hub.store.get_job(job.id).state.value == "cancelled"
