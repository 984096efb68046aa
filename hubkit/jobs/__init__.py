"""Notebook-native jobs: every platform run is a parameterised notebook execution.

``submit`` checks parameters against the notebook's ``parameters`` cell before
anything is queued; an executor (``local`` or ``ray``, by configuration) runs
Papermill; the executed notebook is archived by hash and linked to its run.
Inside a notebook, :func:`hubkit.jobs.context.current` says which job it serves.
"""
from __future__ import annotations

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
from hubkit.jobs.rerun import rerun

__all__ = ["EXECUTORS", "Executor", "JobContext", "JobStatus", "Recovery", "Resources", "cancel", "current",
           "executor_for", "logs", "recover", "rerun", "shutdown", "status", "submit", "wait"]
