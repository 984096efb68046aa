"""Notebook jobs: users submit, follow and cancel their own; workers move them on.

Submission, cancellation and logs go through ``hubkit.jobs`` (which validates
the notebook and its parameters and hands the job to the configured
executor); the plain record operations are the store's, for platform workers.
A Ray job's worker holds only its job's token: it claims, beats, names its
run, reads its notebook, archives the executed copy and ends the job through
the routes guarded by ``job_worker``, for its own job and nothing more.
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from hubkit import jobs
from hubkit.archive import NOTEBOOKS, open_archive
from hubkit.data.limits import human_bytes
from hubkit.errors import PermissionDenied
from hubkit.jobs import notebooks, tokens
from hubkit.jobs.paths import executed_path
from hubkit.service.access import Platform, job_worker, own_job, owned_run
from hubkit.service.errors import ERROR_RESPONSES, UploadTooLarge
from hubkit.service.routes._common import CallerDep, StoreDep
from hubkit.service.routes.archive import Stored
from hubkit.service.schemas import Claimed, JobLogs, JobRecordIn, JobSubmitIn, JobUpdateIn
from hubkit.store.records import JobRecord

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERROR_RESPONSES)
JobId = Annotated[int, Path(ge=1, le=2_147_483_647)]
JobState = Annotated[list[Literal["queued", "running", "succeeded", "failed", "cancelled", "lost"]] | None, Query(max_length=6)]
_WORKER_ENDS = frozenset({"succeeded", "failed", "cancelled"})
_NOTEBOOK_BODY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


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
    if caller.job is not None:  # a job token sees its own job only
        job = store.get_job(caller.job)
        return [job] if not state or job.state.value in state else []
    return store.list_jobs(owner=owner, states=state, limit=limit)


@router.get("/{job_id}", response_model=JobRecord)
def get_job(job_id: JobId, store: StoreDep, caller: CallerDep) -> JobRecord:
    return own_job(store, caller, job_id)


@router.patch("/{job_id}", response_model=JobRecord)
def update_job(job_id: JobId, body: JobUpdateIn, request: Request, store: StoreDep,
               caller: job_worker("move jobs on")) -> JobRecord:
    """The platform moves any job on; a job's own worker beats, names its owner's run and ends it.

    A final state from the job's token spends the token, whether or not the state stood
    (a job cancelled meanwhile stays cancelled).
    """
    if caller.job is None:
        return store.update_job(job_id, **body.model_dump())
    if body.external_id is not None or body.log_path is not None:
        raise PermissionDenied("Only the platform says where a job runs and where its log is.")
    if body.state is not None and body.state not in _WORKER_ENDS:
        raise PermissionDenied(f"A job's worker cannot move its job to {body.state}.")
    if body.model_id is not None:
        owned_run(store, caller, body.model_id)
    try:
        return store.update_job(job_id, **body.model_dump())
    finally:
        if body.state is not None:
            tokens.revoke(request.app.state.settings, job_id)


@router.post("/{job_id}/claim", response_model=Claimed)
def claim_job(job_id: JobId, store: StoreDep, caller: job_worker("claim jobs")) -> Claimed:
    """Move a queued job to running: True for exactly one worker."""
    return Claimed(claimed=store.claim_job(job_id))


@router.get("/{job_id}/notebook", response_class=Response,
            responses={200: {"content": {"application/x-ipynb+json": {}}}})
def job_notebook(job_id: JobId, request: Request, store: StoreDep, caller: job_worker("read jobs' notebooks")) -> Response:
    """The notebook the job runs, for a worker that does not share the platform's disk (Ray)."""
    source = notebooks.resolve(store.get_job(job_id).notebook, settings=request.app.state.settings)
    return Response(source.path.read_bytes(), media_type="application/x-ipynb+json")


@router.put("/{job_id}/notebook", response_model=Stored, status_code=201, openapi_extra=_NOTEBOOK_BODY)
async def archive_executed(job_id: JobId, request: Request, store: StoreDep,
                           caller: job_worker("archive executed notebooks")) -> Stored:
    """Archive the job's executed notebook; it must hold the code of the job's notebook, nothing else.

    The executed notebooks are what ``archive:`` reruns run: a worker cannot put other code there.
    """
    settings = request.app.state.settings
    limit = settings.max_artifact_bytes
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise UploadTooLarge(f"The notebook is larger than {human_bytes(limit)}.", field="body")

    def store_it() -> str:
        source = notebooks.resolve(store.get_job(job_id).notebook, settings=settings)
        notebooks.check_executed(source, bytes(data))
        digest = open_archive(settings.archive_root, namespace=NOTEBOOKS).put_bytes(bytes(data))
        executed_path(settings, job_id).write_text(digest, encoding="utf-8")
        return digest

    return Stored(digest=await run_in_threadpool(store_it), size_bytes=len(data))


@router.post("/{job_id}/cancel", response_model=JobRecord)
def cancel_job(job_id: JobId, request: Request, store: StoreDep, caller: CallerDep) -> JobRecord:
    own_job(store, caller, job_id)
    return jobs.cancel(job_id, settings=request.app.state.settings, store=store)


@router.get("/{job_id}/logs", response_model=JobLogs)
def job_logs(job_id: JobId, request: Request, store: StoreDep, caller: CallerDep) -> JobLogs:
    own_job(store, caller, job_id)
    return JobLogs(job_id=job_id, text=jobs.logs(job_id, settings=request.app.state.settings, store=store))
