"""Runs: create, fork / continue, stream points, finish, publish, feedback, search."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from hubkit.service.access import Platform, owned_run, readable_run
from hubkit.service.caller import Caller
from hubkit.service.errors import ERROR_RESPONSES
from hubkit.service.routes._common import CallerDep, StoreDep
from hubkit.service.schemas import (
    ArtifactsIn,
    Counted,
    EventIn,
    FeedbackIn,
    FinishIn,
    ForkIn,
    Outcome,
    PointsIn,
    RunIn,
    Stored,
    Visibility,
    VisibilityIn,
)
from hubkit.store.records import EventRecord, FeedbackRecord, RunRecord

router = APIRouter(prefix="/v1/runs", tags=["runs"], responses=ERROR_RESPONSES)
events = APIRouter(prefix="/v1/events", tags=["runs"], responses=ERROR_RESPONSES)
RunId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.post("", response_model=RunRecord, status_code=201)
def create_run(body: RunIn, store: StoreDep, caller: CallerDep) -> RunRecord:
    """A new attempt trained from a base model. Users' runs are always marked executed_by=user."""
    fields = body.model_dump(exclude={"owner", "executed_by"})
    return store.create_run(owner=caller.own_name(body.owner), executed_by=_executed_by(caller, body.executed_by),
                            **fields)


@router.post("/{run_id}/fork", response_model=RunRecord, status_code=201)
def fork_run(run_id: RunId, body: ForkIn, store: StoreDep, caller: CallerDep) -> RunRecord:
    """Fork a visible model, or continue / resume your own; the parent link is set here, never typed."""
    fields = body.model_dump(exclude={"owner", "executed_by"})
    return store.fork_run(run_id, owner=caller.own_name(body.owner),
                          executed_by=_executed_by(caller, body.executed_by), **fields)


class RunFilters(BaseModel):
    """The filters ``list_runs`` and ``count_runs`` share."""

    owner: str | None = Field(default=None, max_length=64)
    domain: str | None = Field(default=None, max_length=40)
    outcome: Outcome | None = None
    visibility: Visibility | None = None
    search: str | None = Field(default=None, max_length=200)
    base_family: str | None = Field(default=None, max_length=40)


@router.get("", response_model=list[RunRecord])
def list_runs(store: StoreDep, caller: CallerDep, filters: Annotated[RunFilters, Query()],
              order: Annotated[str, Query(max_length=20)] = "newest", summary: bool = False,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0) -> list[RunRecord]:
    """Search the runs the caller may see (public ones for visitors); ``summary`` leaves out curve and config."""
    return store.list_runs(viewer=caller.viewer, **filters.model_dump(), order=order, summary=summary,
                           limit=limit, offset=offset)


@router.get("/count", response_model=Counted)
def count_runs(store: StoreDep, caller: CallerDep, filters: Annotated[RunFilters, Query()]) -> Counted:
    return Counted(count=store.count_runs(viewer=caller.viewer, **filters.model_dump()))


@router.get("/by-slug/{slug}", response_model=RunRecord)
def get_run_by_slug(slug: Annotated[str, Path(max_length=120)], store: StoreDep, caller: CallerDep) -> RunRecord:
    return store.get_run(slug, viewer=caller.viewer)


@router.get("/{run_id}", response_model=RunRecord)
def get_run(run_id: RunId, store: StoreDep, caller: CallerDep) -> RunRecord:
    """A private run of someone else answers 404, exactly like a missing one."""
    return store.get_run(run_id, viewer=caller.viewer)


@router.get("/{run_id}/children", response_model=list[RunRecord])
def children(run_id: RunId, store: StoreDep, caller: CallerDep) -> list[RunRecord]:
    readable_run(store, caller, run_id)
    return store.children(run_id, viewer=caller.viewer)


@router.post("/{run_id}/points", response_model=Stored)
def append_points(run_id: RunId, body: PointsIn, store: StoreDep, caller: CallerDep) -> Stored:
    """Append logged points (also a heartbeat)."""
    owned_run(store, caller, run_id)
    return Stored(stored=store.append_points(run_id, body.points))


@router.get("/{run_id}/points", response_model=list[dict[str, Any]])
def loss_points(run_id: RunId, store: StoreDep, caller: CallerDep) -> list[dict[str, Any]]:
    readable_run(store, caller, run_id)
    return store.loss_points(run_id)


@router.post("/{run_id}/heartbeat", status_code=204)
def heartbeat(run_id: RunId, store: StoreDep, caller: CallerDep) -> None:
    owned_run(store, caller, run_id)
    store.heartbeat(run_id)


@router.post("/{run_id}/finish", response_model=RunRecord)
def finish_run(run_id: RunId, body: FinishIn, store: StoreDep, caller: CallerDep) -> RunRecord:
    """Set the outcome once and materialise the curve."""
    owned_run(store, caller, run_id)
    return store.finish_run(run_id, **body.model_dump())


@router.post("/{run_id}/artifacts", response_model=RunRecord)
def add_artifacts(run_id: RunId, body: ArtifactsIn, store: StoreDep, caller: CallerDep) -> RunRecord:
    owned_run(store, caller, run_id)
    return store.add_artifacts(run_id, body.artifacts)


@router.post("/{run_id}/events", response_model=EventRecord, status_code=201)
def record_event(run_id: RunId, body: EventIn, store: StoreDep, caller: CallerDep) -> EventRecord:
    owned_run(store, caller, run_id)
    return store.record_event(run_id, body.kind, body.payload, actor=caller.actor)


@events.post("", response_model=EventRecord, status_code=201)
def record_platform_event(body: EventIn, store: StoreDep,
                          caller: Platform("record events that belong to no model")) -> EventRecord:
    """An event about no run in particular (the platform's own log)."""
    return store.record_event(None, body.kind, body.payload, actor=caller.actor)


@router.get("/{run_id}/events", response_model=list[EventRecord])
def list_events(run_id: RunId, store: StoreDep, caller: CallerDep) -> list[EventRecord]:
    readable_run(store, caller, run_id)
    return store.list_events(run_id)


@router.put("/{run_id}/visibility", response_model=RunRecord)
def set_visibility(run_id: RunId, body: VisibilityIn, store: StoreDep, caller: CallerDep) -> RunRecord:
    """Publish or hide: the owner, or an admin moderating."""
    caller.require_login()
    return store.set_visibility(run_id, body.visibility, actor=caller.actor)


@router.post("/{run_id}/feedback", response_model=FeedbackRecord)
def record_feedback(run_id: RunId, body: FeedbackIn, store: StoreDep, caller: CallerDep) -> FeedbackRecord:
    """Thumbs up or down on a model you can see; one per person, updated in place."""
    return store.record_feedback(run_id, user=caller.own_name(body.user, what="user"),
                                 thumbs_up=body.thumbs_up, comment=body.comment)


@router.get("/{run_id}/feedback", response_model=list[FeedbackRecord])
def list_feedback(run_id: RunId, store: StoreDep, caller: CallerDep) -> list[FeedbackRecord]:
    readable_run(store, caller, run_id)
    return store.list_feedback(run_id)


def _executed_by(caller: Caller, claimed: str) -> str:
    # only the platform's own workers produce platform records
    return claimed if caller.trusted else "user"
