"""Submitting and controlling notebook jobs.

``submit`` reads top to bottom: find the notebook → check the parameters
against its ``parameters`` cell (and its kind's rules) → check the resources →
a ``jobs`` row → hand it to the executor. Nothing is queued when a check
fails, and the error says in one sentence what to change.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

from hubkit.config import Settings, load_settings
from hubkit.errors import ValidationError
from hubkit.jobs import notebooks
from hubkit.jobs.executors import Executor, Recovery, Resources, create_executor, is_final
from hubkit.jobs.parameters import validate as validate_parameters
from hubkit.store import Store, open_store
from hubkit.store.records import JobRecord

_EXECUTORS: dict[tuple[str, Settings], Executor] = {}
_LOCK = threading.Lock()


def _context(store: Store | None, settings: Settings | None) -> tuple[Store, Settings]:
    settings = settings or load_settings()
    return store or open_store(settings.database_url, settings=settings), settings


def executor_for(name: str, *, store: Store, settings: Settings) -> Executor:
    """The executor ``name`` for this database (one per process, so its monitor lives on)."""
    key = (name, settings)
    with _LOCK:
        if key not in _EXECUTORS:
            _EXECUTORS[key] = create_executor(store=store, settings=settings, name=name)
        return _EXECUTORS[key]


def shutdown() -> None:
    """Forget this process's executors (workers already started keep running)."""
    with _LOCK:
        executors = list(_EXECUTORS.values())
        _EXECUTORS.clear()
    for executor in executors:
        executor.close()


def parse_resources(resources: Mapping[str, Any] | None) -> Resources:
    try:
        return Resources.model_validate(dict(resources or {}))
    except pydantic.ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or "resources"
        raise ValidationError(f"The job's resources are not valid: {field}: {err['msg']}.",
                              field=field, detail=str(exc)) from None


def submit(*, notebook: str, parameters: Mapping[str, Any], owner: str,
           resources: Mapping[str, Any] | None = None, store: Store | None = None,
           settings: Settings | None = None, kind: str | None = None, allow_paths: bool = True) -> JobRecord:
    """Queue ``notebook`` with ``parameters`` for ``owner``; raises before queueing on bad input.

    Only notebooks ``owner`` may run are accepted (see ``notebooks.check_may_run``);
    ``allow_paths=False`` (the service) also refuses paths to ``.ipynb`` files.
    """
    store, settings = _context(store, settings)
    notebooks.check_may_run(notebook, owner=owner, store=store, allow_paths=allow_paths)
    source = notebooks.resolve(notebook, settings=settings, allow_paths=allow_paths)
    params = validate_parameters(source, parameters, store=store, owner=owner)
    res = parse_resources(resources)
    executor = executor_for(settings.executor, store=store, settings=settings)
    executor.check_resources(res)
    job = store.create_job(owner=owner, kind=kind or source.kind, notebook=source.ref, parameters=params,
                           resources=res.model_dump(), executor=executor.name)
    executor.enqueue(job)
    return store.get_job(job.id)



def _executor_of(job_id: int, store: Store, settings: Settings) -> Executor:
    return executor_for(store.get_job(job_id).executor, store=store, settings=settings)


def wait(job_id: int, *, timeout_s: float | None = None, on_update: Callable[[JobRecord], None] | None = None,
         store: Store | None = None, settings: Settings | None = None) -> JobRecord:
    """Block until job ``job_id`` ends; ``on_update`` is called on every poll (progress bars)."""
    store, settings = _context(store, settings)
    return _executor_of(job_id, store, settings).wait(job_id, timeout_s=timeout_s, on_update=on_update)


@dataclass(frozen=True)
class JobStatus:
    """Where a job stands, and how far the run it trains has got (for progress displays)."""

    job_id: int
    state: str
    final: bool
    run_id: int | None
    step: int | None
    total_steps: int | None
    loss: float | None
    error: str | None
    job: JobRecord


def status(job_id: int, *, store: Store | None = None, settings: Settings | None = None) -> JobStatus:
    """The job's state and, from the moment its notebook created a run, that run's last logged step.

    A worker that died without writing a result is noticed here too (the job
    becomes ``failed``), so polling this is all a progress display needs.
    """
    store, settings = _context(store, settings)
    job = _executor_of(job_id, store, settings).settle(store.get_job(job_id))
    step = total = loss = None
    if job.model_id is not None:
        run = store.get_run(job.model_id)
        points = run.loss_curve_data if run.loss_curve_data is not None else store.loss_points(run.id)
        last = next((p for p in reversed(points) if p.get("loss") is not None), None)
        if last is not None:
            step, loss = last.get("step"), last.get("loss")
        max_steps = run.config.get("max_steps")
        total = int(max_steps) if isinstance(max_steps, int) and max_steps > 0 else None
    return JobStatus(job_id=job.id, state=job.state.value, final=is_final(job), run_id=job.model_id,
                     step=step, total_steps=total, loss=loss, error=job.error, job=job)


def cancel(job_id: int, *, grace_s: float = 15.0, store: Store | None = None,
           settings: Settings | None = None) -> JobRecord:
    """Stop a job; a training run it started ends ``partial`` with what it had learnt."""
    store, settings = _context(store, settings)
    return _executor_of(job_id, store, settings).cancel(job_id, grace_s=grace_s)


def logs(job_id: int, *, store: Store | None = None, settings: Settings | None = None) -> str:
    store, settings = _context(store, settings)
    return _executor_of(job_id, store, settings).logs(job_id)


def recover(*, store: Store | None = None, settings: Settings | None = None) -> Recovery:
    """After a restart: reap jobs whose heartbeat stopped and start queued jobs again."""
    store, settings = _context(store, settings)
    return executor_for(settings.executor, store=store, settings=settings).recover()
