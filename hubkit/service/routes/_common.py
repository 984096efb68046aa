"""What every router needs: the store and the caller (authorization lives in ``hubkit.service.access``)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hubkit.service.caller import Caller, current_caller
from hubkit.store import Store


def get_store(request: Request) -> Store:
    return request.app.state.store


StoreDep = Annotated[Store, Depends(get_store)]
CallerDep = Annotated[Caller, Depends(current_caller)]
