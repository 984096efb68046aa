"""Small helpers every router uses: the store, the caller, run ownership."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hubkit.errors import PermissionDenied
from hubkit.service.caller import Caller, current_caller
from hubkit.store import Store
from hubkit.store.records import RunRecord


def get_store(request: Request) -> Store:
    return request.app.state.store


StoreDep = Annotated[Store, Depends(get_store)]
CallerDep = Annotated[Caller, Depends(current_caller)]


def readable_run(store: Store, caller: Caller, run_id: int) -> None:
    """Reads of a run's parts follow the run's visibility (404 when hidden)."""
    if caller.viewer is not None:
        store.get_run(run_id, viewer=caller.viewer)


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
