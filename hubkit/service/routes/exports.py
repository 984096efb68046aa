"""Exported models (GGUF files, Ollama bundles), streamed from the archive like every other bundle.

An export is made once (``hubkit export``) and recorded as an event on its run;
this route streams the newest one of a format and quantization in constant
memory, checking its sha256 on the way (see :mod:`hubkit.service.routes.bundles`).
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse

from hubkit.errors import NotFound
from hubkit.service.errors import ERROR_RESPONSES
from hubkit.service.routes._common import CallerDep, StoreDep
from hubkit.service.routes.bundles import TicketQuery, viewer_for

router = APIRouter(prefix="/v1/runs", tags=["downloads"], responses=ERROR_RESPONSES)

Format = Literal["gguf", "gguf-adapter", "ollama", "ollama-adapter"]
Quant = Literal["f16", "q8_0", "q4_k_m"]


@router.get("/{run_id}/exports/{fmt}/{quantization}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}, "application/x-tar": {}},
                             "description": "The exported file (GGUF) or bundle (tar)."}})
def download_export(run_id: Annotated[int, Path(ge=1, le=2_147_483_647)], fmt: Format, quantization: Quant,
                    request: Request, store: StoreDep, caller: CallerDep,
                    ticket: TicketQuery = None) -> StreamingResponse:
    """Stream the newest export of a model you can see (anyone, for public models; a ticket's user for its link)."""
    from hubkit.export.api import FORMATS, latest_export

    viewer = viewer_for(caller, ticket, run_id=run_id, route=f"exports/{fmt}/{quantization}")
    event = latest_export(store=store, model=run_id, viewer=viewer, fmt=fmt, quantization=quantization)
    digest = str(event.payload["sha256"])
    archive = request.app.state.archive()
    if not archive.exists(digest):
        raise NotFound("That export is no longer stored; export the model again.")
    headers = {"Content-Disposition": f'attachment; filename="{event.payload["filename"]}"',
               "X-Content-SHA256": digest, "Content-Length": str(archive.size(digest))}
    return StreamingResponse(archive.iter_bytes(digest), media_type=FORMATS[fmt].media_type, headers=headers)
