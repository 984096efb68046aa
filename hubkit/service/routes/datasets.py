"""Datasets: streamed, size-limited uploads validated before anything is stored.

An upload's file name is checked (``hubkit.data.check_upload_name``) and then
used only to pick a reader and as metadata: the bytes are stored in the archive
under their sha256, and only after ``hubkit.data`` accepted every row.
"""
from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from hubkit.data import check_upload_name, prepare_upload
from hubkit.data.limits import human_bytes
from hubkit.errors import ValidationError
from hubkit.service.errors import ERROR_RESPONSES, UploadTooLarge
from hubkit.service.routes._common import CallerDep, StoreDep
from hubkit.service.schemas import DatasetIn, DatasetUploadOut, TaintIn
from hubkit.store.records import DatasetRecord
from hubkit.store.validation import clean_name

router = APIRouter(prefix="/v1/datasets", tags=["datasets"], responses=ERROR_RESPONSES)
DatasetId = Annotated[int, Path(ge=1, le=2_147_483_647)]
_BINARY_BODY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


@router.put("/upload", response_model=DatasetUploadOut, status_code=201, openapi_extra=_BINARY_BODY)
async def upload_dataset(request: Request, store: StoreDep, caller: CallerDep,
                         filename: Annotated[str, Query(min_length=1, max_length=255, description="The file's own name (picks the reader; metadata only).")],
                         name: Annotated[str | None, Query(max_length=200)] = None,
                         format: Annotated[str | None, Query(max_length=32)] = None,
                         owner: Annotated[str | None, Query(max_length=64)] = None) -> DatasetUploadOut:
    """Upload a dataset file as the raw request body (JSONL, JSON, CSV, TSV, TXT, Parquet)."""
    owner_name = caller.own_name(owner)
    check_upload_name(filename)
    if name is not None:  # checked before anything is stored, like the file's own name
        clean_name(name, what="dataset name")
    settings = request.app.state.settings
    data = await _read_limited(request, settings.max_upload_bytes)
    digest = hashlib.sha256(data).hexdigest()

    def accept() -> DatasetUploadOut:
        prepared = prepare_upload(data=data, filename=filename, settings=settings, format=format)
        archived = request.app.state.archive().put_bytes(data)
        if archived != digest:  # the archive hashes again; a mismatch means corrupted memory or disk
            raise ValidationError("The upload changed while it was stored; send it again.")
        fields = prepared.record_fields()
        if name:
            fields["name"] = name
        record = store.register_dataset(owner=owner_name, **fields)
        return DatasetUploadOut(dataset=record, content_hash=digest, size_bytes=len(data),
                                preview=prepared.preview(5))

    return await run_in_threadpool(accept)


async def _read_limited(request: Request, limit: int) -> bytes:
    too_large = UploadTooLarge(f"The file is larger than {human_bytes(limit)}, the most one upload may hold.",
                               field="body")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise too_large
    if not buf:
        raise ValidationError("The upload is empty.", field="body")
    return bytes(buf)


@router.post("", response_model=DatasetRecord, status_code=201)
def register_dataset(body: DatasetIn, store: StoreDep, caller: CallerDep) -> DatasetRecord:
    """Record a dataset validated elsewhere (a platform worker, or a kernel's own data)."""
    fields = body.model_dump(exclude={"owner"})
    owner = body.owner if caller.trusted else caller.own_name(body.owner)
    return store.register_dataset(owner=owner, **fields)


@router.get("", response_model=list[DatasetRecord])
def list_datasets(store: StoreDep, caller: CallerDep) -> list[DatasetRecord]:
    """The platform sees all; a user their own and the shared examples (researchers and admins: all)."""
    return store.list_datasets(viewer=caller.viewer)


@router.get("/{dataset_id}", response_model=DatasetRecord)
def get_dataset(dataset_id: DatasetId, store: StoreDep, caller: CallerDep) -> DatasetRecord:
    return store.get_dataset(dataset_id, viewer=caller.viewer)


@router.get("/{dataset_id}/item-hashes", response_model=list[str])
def dataset_item_hashes(dataset_id: DatasetId, store: StoreDep, caller: CallerDep) -> list[str]:
    store.get_dataset(dataset_id, viewer=caller.viewer)
    return sorted(store.dataset_item_hashes(dataset_id))


@router.post("/{dataset_id}/taint", response_model=DatasetRecord)
def taint_dataset(dataset_id: DatasetId, body: TaintIn, store: StoreDep, caller: CallerDep) -> DatasetRecord:
    """Mark a dataset (and so every model trained on it) as tainted: owners, researchers, admins."""
    caller.require_login()
    return store.taint_dataset(dataset_id, reason=body.reason, actor=caller.actor)
