"""Scores, capability flags, leaderboards and the reaper.

Scores are written only by the platform's own workers, so leaderboards show
platform-measured numbers whoever trained the model; users' kernels can read
them but never write them.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from hubkit.errors import NotFound, PermissionDenied
from hubkit.jobs.paths import executed_path, rerun_of_kind
from hubkit.service.access import (
    Platform,
    PlatformOrJob,
    notebook_run_visible,
    own_job,
    owned_run,
    readable_notebook_run,
    readable_run,
    visible_models,
)
from hubkit.service.errors import ERROR_RESPONSES
from hubkit.service.routes._common import CallerDep, StoreDep
from hubkit.service.schemas import (
    EvaluationWrite,
    FlagsIn,
    NotebookRunIn,
    Reaped,
    StampCount,
)
from hubkit.store.records import (
    CapabilityFlagRecord,
    EvaluationRecord,
    LeaderboardRow,
    NotebookRunRecord,
)

router = APIRouter(prefix="/v1", tags=["evaluations"], responses=ERROR_RESPONSES)
RunId = Annotated[int, Path(ge=1, le=2_147_483_647)]
OptId = Annotated[int | None, Query(ge=1, le=2_147_483_647)]
Name = Annotated[str, Path(min_length=1, max_length=120)]




@router.post("/evaluations", response_model=EvaluationRecord, status_code=201)
def record_evaluation(body: EvaluationWrite, store: StoreDep, caller: Platform("record benchmark scores")) -> EvaluationRecord:
    return store.record_evaluation(evaluation=body.evaluation, model_id=body.model_id,
                                   base_model=body.base_model, executed_by=body.executed_by)


@router.get("/evaluations", response_model=list[EvaluationRecord])
def list_evaluations(store: StoreDep, caller: CallerDep, model_id: OptId = None,
                     base_model: Annotated[str | None, Query(max_length=120)] = None,
                     base_model_id: OptId = None) -> list[EvaluationRecord]:
    """Every task run on a model (or on a base model, by key or id, as its baseline)."""
    if model_id is not None:
        readable_run(store, caller, model_id)
    base: str | int | None = base_model_id if base_model_id is not None else base_model
    rows = store.list_evaluations(model_id=model_id, base_model=base)
    visible = visible_models(store, caller, {r.model_id for r in rows if r.model_id is not None})
    return [r for r in rows if r.model_id is None or r.model_id in visible]


@router.put("/runs/{run_id}/capability-flags", response_model=list[CapabilityFlagRecord])
def replace_capability_flags(run_id: RunId, body: FlagsIn, store: StoreDep, caller: Platform("set capability flags")) -> list[CapabilityFlagRecord]:
    return store.replace_capability_flags(run_id, body.flags)


@router.get("/capability-flags", response_model=list[CapabilityFlagRecord])
def list_capability_flags(store: StoreDep, caller: CallerDep, run_id: OptId = None) -> list[CapabilityFlagRecord]:
    if run_id is not None:
        readable_run(store, caller, run_id)
    rows = store.list_capability_flags(run_id)
    visible = visible_models(store, caller, {r.model_id for r in rows})
    return [r for r in rows if r.model_id in visible]


@router.get("/leaderboards/{domain}", response_model=list[LeaderboardRow])
def leaderboard(domain: Annotated[str, Path(min_length=1, max_length=40)], store: StoreDep,
                task: Annotated[str | None, Query(max_length=120)] = None,
                stamp_hash: Annotated[str | None, Query(max_length=64)] = None,
                base_family: Annotated[str | None, Query(max_length=40)] = None,
                suite: Annotated[str | None, Query(max_length=40)] = None, ascending: bool = False,
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0) -> list[LeaderboardRow]:
    """Public, platform-scored models ranked on one task under one stamp (open to visitors)."""
    return store.leaderboard(domain=domain, task=task, stamp_hash=stamp_hash, base_family=base_family,
                             suite=suite, ascending=ascending, limit=limit, offset=offset)


@router.get("/leaderboards/{domain}/{task}/stamps", response_model=list[StampCount])
def leaderboard_stamps(domain: Annotated[str, Path(min_length=1, max_length=40)], task: Name, store: StoreDep,
                       base_family: Annotated[str | None, Query(max_length=40)] = None,
                       suite: Annotated[str | None, Query(max_length=40)] = None) -> list[StampCount]:
    """Every stamp a task was scored under (in one suite, if named): scores are comparable only within one."""
    return [StampCount(stamp_hash=h, models=n)
            for h, n in store.leaderboard_stamps(domain=domain, task=task, base_family=base_family, suite=suite)]


@router.post("/reap", response_model=Reaped)
def reap(store: StoreDep, caller: Platform("reap runs"),
         stale_after_s: Annotated[float, Query(ge=0, le=10**9)] = 120.0) -> Reaped:
    return Reaped(reaped=store.reap(stale_after_s=stale_after_s))


@router.post("/notebook-runs", response_model=NotebookRunRecord, status_code=201)
def record_notebook_run(body: NotebookRunIn, request: Request, store: StoreDep,
                        caller: PlatformOrJob("record notebook runs")) -> NotebookRunRecord:
    """The platform records any; a job's token records its own job's, with the notebook it archived."""
    if caller.job is None:
        return store.record_notebook_run(**body.model_dump())
    if body.job_id != caller.job:
        raise NotFound(f"There is no job {body.job_id}.")
    job = store.get_job(caller.job)
    try:
        archived = executed_path(request.app.state.settings, job.id).read_text(encoding="utf-8").strip()
    except OSError:
        archived = ""
    if body.archive_hash != archived:
        raise PermissionDenied("A job records only the notebook it archived through PUT /v1/jobs/{job_id}/notebook.")
    if body.model_id is not None:
        owned_run(store, caller, body.model_id)
    return store.record_notebook_run(**{**body.model_dump(), "notebook": job.notebook, "parameters": job.parameters,
                                        "rerun_of": rerun_of_kind(job.kind)})


@router.get("/notebook-runs", response_model=list[NotebookRunRecord])
def list_notebook_runs(store: StoreDep, caller: CallerDep, model_id: OptId = None, job_id: OptId = None,
                       rerun_of: OptId = None,
                       archive_hash: Annotated[str | None, Query(max_length=64)] = None) -> list[NotebookRunRecord]:
    """Executed notebooks: users see those of models they can see and of their own jobs.

    A filter naming a model, job or notebook run the caller may not see answers 404.
    """
    if model_id is not None:
        readable_run(store, caller, model_id)
    if job_id is not None and caller.viewer is not None:
        own_job(store, caller, job_id)
    if rerun_of is not None:
        readable_notebook_run(store, caller, rerun_of)
    rows = store.list_notebook_runs(model_id=model_id, job_id=job_id, rerun_of=rerun_of, archive_hash=archive_hash)
    return [r for r in rows if notebook_run_visible(store, caller, r)]


@router.get("/notebook-runs/{notebook_run_id}", response_model=NotebookRunRecord)
def get_notebook_run(notebook_run_id: RunId, store: StoreDep, caller: CallerDep) -> NotebookRunRecord:
    return readable_notebook_run(store, caller, notebook_run_id)
