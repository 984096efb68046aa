"""The archive for code that may not touch it directly: user kernels and jobs run as their owner.

Content-addressed both ways: a ``PUT`` stores the body and answers its
sha256; a ``GET`` streams an object back (the client checks the hash again).
Only logged-in callers; a hash is the capability to read what it names, as it
is for the platform's own processes. Nothing stored here becomes runnable:
which notebooks a job may run is decided by the job routes, never by the
archive, and ``PUT`` never reaches the executed notebooks' namespace, which
``GET /v1/archive/notebooks/{hash}`` reads to whoever may see that notebook's run.
"""
from __future__ import annotations

import tempfile
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from hubkit.archive import NOTEBOOKS, open_archive
from hubkit.data.limits import human_bytes
from hubkit.errors import NotFound
from hubkit.service.access import notebook_run_visible
from hubkit.service.errors import ERROR_RESPONSES, UploadTooLarge
from hubkit.service.routes._common import CallerDep, StoreDep

router = APIRouter(prefix="/v1/archive", tags=["archive"], responses=ERROR_RESPONSES)
Digest = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The object's sha256.")]
_BINARY_BODY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
_SPOOL = 8 << 20


class Stored(BaseModel):
    digest: str
    size_bytes: int


@router.put("", response_model=Stored, status_code=201, openapi_extra=_BINARY_BODY)
async def put_object(request: Request, caller: CallerDep) -> Stored:
    """Store the request body (an adapter, a checkpoint, a prepared dataset) under its sha256."""
    caller.require_login()
    limit = request.app.state.settings.max_artifact_bytes
    too_large = UploadTooLarge(f"The file is larger than {human_bytes(limit)}, the most one artefact may hold.",
                               field="body")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as buf:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            buf.write(chunk)
        buf.seek(0)
        digest = await run_in_threadpool(request.app.state.archive().put_stream, buf)
    return Stored(digest=digest, size_bytes=size)


@router.get(f"/{NOTEBOOKS}/{{notebook_digest}}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
async def get_notebook(notebook_digest: Digest, request: Request, store: StoreDep,
                       caller: CallerDep) -> StreamingResponse:
    """Stream an executed notebook the caller may see: of a model they can see, or of their own job.

    Executed notebooks are their own namespace: written by the platform only, never by ``PUT``.
    """
    caller.require_login()
    digest = notebook_digest

    def visible() -> bool:
        return any(notebook_run_visible(store, caller, row) for row in store.list_notebook_runs(archive_hash=digest))

    archive = open_archive(request.app.state.settings.archive_root, namespace=NOTEBOOKS)
    if not await run_in_threadpool(visible) or not await run_in_threadpool(archive.exists, digest):
        raise NotFound(f"There is no archived notebook {digest}.")
    return StreamingResponse(iterate_in_threadpool(archive.iter_bytes(digest)), media_type="application/octet-stream")


@router.get("/{digest}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
async def get_object(digest: Digest, request: Request, caller: CallerDep) -> StreamingResponse:
    """Stream an archived object (404 when nothing is stored under the hash)."""
    caller.require_login()
    archive = request.app.state.archive()
    if not await run_in_threadpool(archive.exists, digest):
        raise NotFound(f"Nothing is archived under {digest}.")
    return StreamingResponse(iterate_in_threadpool(archive.iter_bytes(digest)),
                             media_type="application/octet-stream")
