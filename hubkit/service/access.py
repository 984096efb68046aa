"""Authorization: one check per kind of id a caller passes, used by every route.

Whatever a route takes (a run id or slug in the path, a ``dataset_id`` in a
body, a ``model_id`` filter in a query, an id among a job's parameters), it is
checked here or by the store with the caller as ``viewer``, and the answer is
the same everywhere:

- an object the caller may not see answers ``404`` exactly as a missing one,
  so its existence does not leak;
- a visible object the caller may not change answers ``403``;
- routes only the platform's own workers may call depend on
  :func:`platform_only`; :func:`mark_platform_routes` names them in the
  OpenAPI document (``x-hubkit-platform-only``), which the route walk in the
  tests reads, so a new route is covered without anyone listing it;
- a job token (``Identity.job``) reaches its own job only: any other job
  answers ``404``. Routes guarded by :func:`job_worker` are platform-only to
  everyone else; the token of the job in their path may call them too (a Ray
  job's worker records its job through them).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from hubkit.errors import NotFound, PermissionDenied
from hubkit.service.caller import Caller, current_caller
from hubkit.store import Store
from hubkit.store.records import JobRecord, NotebookRunRecord, RunRecord

PLATFORM_ONLY = "x-hubkit-platform-only"


def platform_only(what: str) -> Any:
    """A dependency for routes only platform workers call: users get 403, visitors 401."""

    def check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        caller.require_platform(what)
        return caller

    check.platform_only = True  # type: ignore[attr-defined]
    return Depends(check)


def Platform(what: str) -> Any:  # reads like a type in route signatures: ``caller: Platform("reap runs")``
    return Annotated[Caller, platform_only(what)]


def job_worker(what: str) -> Any:
    """Routes of ``/v1/jobs/{job_id}`` for whoever records the job: the platform, or that job's own token."""

    def check(job_id: int, caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if caller.job is not None:
            if caller.job != job_id:
                raise NotFound(f"There is no job {job_id}.")
            return caller
        caller.require_platform(what)
        return caller

    check.platform_only = True  # type: ignore[attr-defined]
    return Annotated[Caller, Depends(check)]


def PlatformOrJob(what: str) -> Any:
    """As :func:`Platform`, but a job token passes too: the route checks the job its body names."""

    def check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if caller.job is None:
            caller.require_platform(what)
        return caller

    check.platform_only = True  # type: ignore[attr-defined]
    return Annotated[Caller, Depends(check)]


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def mark_platform_routes(router: APIRouter) -> None:
    """Name every route of ``router`` guarded by :func:`platform_only` in the OpenAPI document."""
    for route in router.routes:
        if isinstance(route, APIRoute) and any(getattr(d.call, "platform_only", False)
                                               for d in _dependencies(route.dependant)):
            route.openapi_extra = {**(route.openapi_extra or {}), PLATFORM_ONLY: True}


def readable_run(store: Store, caller: Caller, run_id: int | str) -> RunRecord | None:
    """Reads of a run or its parts follow the run's visibility (404 when hidden)."""
    if caller.viewer is None:
        return None
    return store.get_run(run_id, viewer=caller.viewer)


def owned_run(store: Store, caller: Caller, run_id: int) -> RunRecord | None:
    """Users change only their own runs: hidden → 404, visible but not theirs → 403.

    The platform is trusted and keeps the store's own semantics.
    """
    caller.require_login()
    if caller.trusted:
        return None
    run = store.get_run(run_id, viewer=caller.viewer)
    if run.owner != caller.username:
        raise PermissionDenied("Only the owner of this model can change it.")
    return run


def visible_models(store: Store, caller: Caller, ids: set[int]) -> set[int]:
    """The subset of model ids the caller may see (each checked like a profile read)."""
    if caller.viewer is None:
        return ids
    seen = set()
    for model_id in ids:
        try:
            store.get_run(model_id, viewer=caller.viewer)
        except NotFound:  # hidden from this caller, or gone
            continue
        seen.add(model_id)
    return seen


def own_job(store: Store, caller: Caller, job_id: int) -> JobRecord:
    """A user sees only their own jobs (admins all), a job token its own job; anything else answers 404."""
    if caller.job is not None and caller.job != job_id:
        raise NotFound(f"There is no job {job_id}.")
    job = store.get_job(job_id)
    if caller.trusted and caller.viewer is None:
        return job
    caller.require_login()
    user = store.get_user(caller.username or "")
    if job.owner_id != user.id and user.role.value != "admin":
        raise NotFound(f"There is no job {job_id}.")
    return job


def _owns_job(store: Store, caller: Caller, job_id: int) -> bool:
    try:
        own_job(store, caller, job_id)
    except NotFound:
        return False
    return True


def notebook_run_visible(store: Store, caller: Caller, row: NotebookRunRecord) -> bool:
    """An executed notebook is seen with its model, or by whoever owns the job that ran it."""
    if caller.viewer is None:
        return True
    if row.model_id is not None and visible_models(store, caller, {row.model_id}):
        return True
    return not caller.anonymous and row.job_id is not None and _owns_job(store, caller, row.job_id)


def readable_notebook_run(store: Store, caller: Caller, notebook_run_id: int) -> NotebookRunRecord:
    row = store.get_notebook_run(notebook_run_id)
    if not notebook_run_visible(store, caller, row):
        raise NotFound(f"There is no notebook run {notebook_run_id}.")
    return row
