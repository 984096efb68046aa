"""Where a job keeps its files, and the small facts a job row carries in its ``kind``.

Everything lives under ``HUBKIT_HOME/jobs/<job id>/`` (log, executed notebook,
cancel marker, reported runs); the folder name is the integer id, never user text.
"""
from __future__ import annotations

from pathlib import Path

from hubkit.config import Settings

_RERUN = "rerun:"


def job_dir(settings: Settings, job_id: int) -> Path:
    folder = settings.home.resolve() / "jobs" / str(int(job_id))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_path(settings: Settings, job_id: int) -> Path:
    return job_dir(settings, job_id) / "log.txt"


def executed_path(settings: Settings, job_id: int) -> Path:
    """The hash of the executed notebook a job's remote worker archived through the service."""
    return job_dir(settings, job_id) / "executed.sha256"


def rerun_kind(notebook_run_id: int) -> str:
    """The job kind of a rerun: it names the notebook run it repeats."""
    return f"{_RERUN}{int(notebook_run_id)}"


def rerun_of_kind(kind: str) -> int | None:
    return int(kind.removeprefix(_RERUN)) if kind.startswith(_RERUN) else None
