"""Downloads: a model's adapter, merged model or model card, streamed from the archive.

The archive checks the sha256 while streaming and withholds the last chunk
until it matches, so a damaged file ends in a broken download (a chunked
answer cut off before its end), never in silently wrong bytes; the hash is
also sent as ``X-Content-SHA256`` for clients to check.
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse

from hubkit.errors import NotFound
from hubkit.service.errors import ERROR_RESPONSES
from hubkit.service.routes._common import CallerDep, StoreDep

router = APIRouter(prefix="/v1/runs", tags=["downloads"], responses=ERROR_RESPONSES)

# part of a bundle → (artifact key on the run, media type, file suffix)
BUNDLE_PARTS: dict[str, tuple[str, str, str]] = {
    "adapter": ("adapter", "application/x-tar", "-adapter.tar"),
    "merged": ("merged", "application/x-tar", "-merged.tar"),
    "card": ("model_card", "text/markdown; charset=utf-8", "-README.md"),
}


@router.get("/{run_id}/download/{part}", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-tar": {}, "text/markdown": {}},
                             "description": "The archived bytes."}})
def download(run_id: Annotated[int, Path(ge=1, le=2_147_483_647)], part: Literal["adapter", "merged", "card"],
             request: Request, store: StoreDep, caller: CallerDep) -> StreamingResponse:
    """Stream one part of a model you can see (anyone, for public models)."""
    run = store.get_run(run_id, viewer=caller.viewer)
    key, media_type, suffix = BUNDLE_PARTS[part]
    digest = run.artifacts.get(key)
    if not isinstance(digest, str):
        raise NotFound(f"The model {run.name!r} has no {part} to download.")
    archive = request.app.state.archive()
    if not archive.exists(digest):
        raise NotFound(f"The {part} of {run.name!r} is no longer stored.")
    headers = {"Content-Disposition": f'attachment; filename="{run.slug}{suffix}"',
               "X-Content-SHA256": digest}
    return StreamingResponse(archive.iter_bytes(digest), media_type=media_type, headers=headers)
