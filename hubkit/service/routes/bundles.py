"""Downloads: a model's adapter, merged model or model card, streamed from the archive.

The archive checks the sha256 while streaming and withholds the last chunk
until it matches, so a damaged file ends in a broken download (a chunked
answer cut off before its end), never in silently wrong bytes; the hash is
also sent as ``X-Content-SHA256`` for clients to check. The model card is
written from the run record (licence from the catalog, scores as the Hub's
``model-index``), not read from a file.
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from hubkit import tickets
from hubkit.errors import NotFound
from hubkit.hub.download import card_text
from hubkit.service.caller import Caller
from hubkit.service.errors import ERROR_RESPONSES
from hubkit.service.routes._common import CallerDep, StoreDep

router = APIRouter(prefix="/v1/runs", tags=["downloads"], responses=ERROR_RESPONSES)

# part of a bundle → (artifact key on the run, media type, file suffix)
BUNDLE_PARTS: dict[str, tuple[str, str, str]] = {
    "adapter": ("adapter", "application/x-tar", "-adapter.tar"),
    "merged": ("merged", "application/x-tar", "-merged.tar"),
    "card": ("adapter", "text/markdown; charset=utf-8", "-README.md"),  # a card for a model with an adapter
}


TicketQuery = Annotated[str | None, Query(max_length=1024, description="A download ticket (POST .../tickets) in "
                                       "place of a token: a browser following a private model's link.")]


class TicketIn(BaseModel):
    route: str = Field(max_length=64, description="What the ticket opens, e.g. download/adapter or exports/gguf/f16.")


class TicketOut(BaseModel):
    ticket: str
    expires_in: int


def viewer_for(caller: Caller, ticket: str | None, *, run_id: int, route: str) -> str | None:
    """Who this download is for: the ticket's user when one is given, else the caller."""
    return caller.viewer if ticket is None else tickets.redeem(ticket, run_id=run_id, route=route)


@router.post("/{run_id}/tickets", response_model=TicketOut)
def make_ticket(run_id: Annotated[int, Path(ge=1, le=2_147_483_647)], body: TicketIn, store: StoreDep,
                caller: CallerDep) -> TicketOut:
    """A link ticket for one download of a model you can see, valid for a few minutes."""
    return TicketOut(ticket=store.download_ticket(run_id, body.route, viewer=caller.viewer), expires_in=tickets.TTL_S)


@router.get("/{run_id}/download/{part}", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-tar": {}, "text/markdown": {}},
                             "description": "The archived bytes."}})
def download(run_id: Annotated[int, Path(ge=1, le=2_147_483_647)], part: Literal["adapter", "merged", "card"],
             request: Request, store: StoreDep, caller: CallerDep, ticket: TicketQuery = None) -> Response:
    """Stream one part of a model you can see (anyone, for public models; a ticket's user for its link).

    The merged model goes to others than its owner only where the base's licence allows handing it on."""
    from hubkit.export import check_merged_download

    viewer = viewer_for(caller, ticket, run_id=run_id, route=f"download/{part}")
    run = store.get_run(run_id, viewer=viewer)
    if part == "merged":
        check_merged_download(store=store, run=run, viewer=viewer)
    key, media_type, suffix = BUNDLE_PARTS[part]
    digest = run.artifacts.get(key)
    if not isinstance(digest, str):
        raise NotFound(f"The model {run.name!r} has no {part} to download.")
    headers = {"Content-Disposition": f'attachment; filename="{run.slug}{suffix}"'}
    if part == "card":
        return Response(card_text(store=store, run=run), media_type=media_type, headers=headers)
    archive = request.app.state.archive()
    if not archive.exists(digest):
        raise NotFound(f"The {part} of {run.name!r} is no longer stored.")
    headers["X-Content-SHA256"] = digest
    return StreamingResponse(archive.iter_bytes(digest), media_type=media_type, headers=headers)
