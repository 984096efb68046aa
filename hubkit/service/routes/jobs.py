"""Notebook jobs: users submit, follow and cancel their own; workers move them on.

Submission, cancellation and logs go through ``hubkit.jobs`` (which validates
the notebook and its parameters and hands the job to the configured
executor); the plain record operations are the store's, for platform workers.
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from hubkit import jobs
from hubkit.errors import PermissionDenied
from hubkit.service.access import Platform, own_job
from hubkit.service.errors import ERROR_RESPONSES
from hubkit.service.routes._common import CallerDep, StoreDep
from hubkit.service.schemas import Claimed, JobLogs, JobRecordIn, JobSubmitIn, JobUpdateIn
from hubkit.store.records import JobRecord

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERROR_RESPONSES)
JobId = Annotated[int, Path(ge=1, le=2_147_483_647)]
JobState = Annotated[list[Literal["queued", "running", "succeeded", "failed", "cancelled", "lost"]] | None, Query(max_length=6)]


@router.post("", response_model=JobRecord, status_code=201)
def submit_job(body: JobSubmitIn, request: Request, store: StoreDep, caller: CallerDep) -> JobRecord:
    """Run a notebook the caller may run (train, evaluate, a template, an archived notebook of
    their own) as a job owned by the caller; any other notebook answers 404."""
    owner = caller.own_name(None) if not caller.trusted else caller.own_name(caller.act_as)
    # 'train', 'evaluate', 'template:<name>' or the caller's own 'archive:<sha256>', never a path
    return jobs.submit(notebook=body.notebook, parameters=body.parameters, owner=owner,
                       resources=body.resources, settings=request.app.state.settings, store=store,
                       allow_paths=False)


@router.post("/records", response_model=JobRecord, status_code=201)
def create_job(body: JobRecordIn, store: StoreDep, caller: Platform("create job records")) -> JobRecord:
    return store.create_job(**body.model_dump())


@router.get("", response_model=list[JobRecord])
def list_jobs(store: StoreDep, caller: CallerDep, owner: Annotated[str | None, Query(max_length=64)] = None,
              state: JobState = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[JobRecord]:
    """The platform lists anyone's jobs; a user lists their own."""
    caller.require_login()
    if not caller.trusted:
        if owner not in (None, caller.username):
            raise PermissionDenied("You can only list your own jobs.")
        owner = caller.username
    return store.list_jobs(owner=owner, states=state, limit=limit)


@router.get("/{job_id}", response_model=JobRecord)
def get_job(job_id: JobId, store: StoreDep, caller: CallerDep) -> JobRecord:
    return own_job(store, caller, job_id)


@router.patch("/{job_id}", response_model=JobRecord)
def update_job(job_id: JobId, body: JobUpdateIn, store: StoreDep, caller: Platform("move jobs on")) -> JobRecord:
    return store.update_job(job_id, **body.model_dump())


@router.post("/{job_id}/claim", response_model=Claimed)
def claim_job(job_id: JobId, store: StoreDep, caller: Platform("claim jobs")) -> Claimed:
    """Move a queued job to running: True for exactly one worker."""
    return Claimed(claimed=store.claim_job(job_id))


@router.post("/{job_id}/cancel", response_model=JobRecord)
def cancel_job(job_id: JobId, request: Request, store: StoreDep, caller: CallerDep) -> JobRecord:
    own_job(store, caller, job_id)
    return jobs.cancel(job_id, settings=request.app.state.settings, store=store)


@router.get("/{job_id}/logs", response_model=JobLogs)
def job_logs(job_id: JobId, request: Request, store: StoreDep, caller: CallerDep) -> JobLogs:
    own_job(store, caller, job_id)
    return JobLogs(job_id=job_id, text=jobs.logs(job_id, settings=request.app.state.settings, store=store))
