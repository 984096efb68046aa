"""Notebook-native jobs: every platform run is a parameterised notebook execution.

``submit`` checks parameters against the notebook's ``parameters`` cell before
anything is queued; an executor (``local`` or ``ray``, by configuration) runs
Papermill; the executed notebook is archived by hash and linked to its run.
Inside a notebook, :func:`hubkit.jobs.context.current` says which job it serves.

Names load on first use: a notebook's kernel imports ``hubkit.jobs.context``
alone, and a worker what it runs, without the rest of the package.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from hubkit._lazy import lazy_exports

if TYPE_CHECKING:
    from hubkit.jobs.api import (
        JobStatus,
        cancel,
        executor_for,
        logs,
        recover,
        shutdown,
        status,
        submit,
        wait,
    )
    from hubkit.jobs.context import JobContext, current
    from hubkit.jobs.executors import EXECUTORS, Executor, Recovery, Resources
    from hubkit.jobs.reruns import rerun

_HOMES = {
    "JobStatus": "api", "cancel": "api", "executor_for": "api", "logs": "api", "recover": "api",
    "shutdown": "api", "status": "api", "submit": "api", "wait": "api",
    "JobContext": "context", "current": "context",
    "EXECUTORS": "executors", "Executor": "executors", "Recovery": "executors", "Resources": "executors",
    "rerun": "reruns",
}

__all__ = ["EXECUTORS", "Executor", "JobContext", "JobStatus", "Recovery", "Resources", "cancel", "current",
           "executor_for", "logs", "recover", "rerun", "shutdown", "status", "submit", "wait"]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
