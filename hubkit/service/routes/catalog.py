"""Who am I, users and the base-model catalog."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from hubkit.service.access import Platform
from hubkit.service.errors import ERROR_RESPONSES
from hubkit.service.routes._common import CallerDep, StoreDep
from hubkit.service.schemas import BaseModelIn, Me, UserIn
from hubkit.store.records import BaseModelRecord, UserRecord

router = APIRouter(prefix="/v1", tags=["catalog"], responses=ERROR_RESPONSES)
Key = Annotated[str, Path(min_length=1, max_length=120)]


@router.get("/me", response_model=Me)
def me(caller: CallerDep) -> Me:
    ident = caller.identity
    return Me(kind=ident.kind, name=ident.name, role=ident.role, acting_as=caller.act_as)


@router.post("/users", response_model=UserRecord)
def ensure_user(body: UserIn, store: StoreDep, caller: CallerDep) -> UserRecord:
    """Create a user if new (the platform); users get their own record back."""
    if not caller.trusted:
        return store.get_user(caller.own_name(body.username, what="username"))
    return store.ensure_user(body.username, role=body.role, display_name=body.display_name)


@router.get("/users/{username}", response_model=UserRecord)
def get_user(username: Annotated[str, Path(max_length=64)], store: StoreDep, caller: CallerDep) -> UserRecord:
    return store.get_user(username)


@router.get("/base-models", response_model=list[BaseModelRecord])
def list_base_models(store: StoreDep) -> list[BaseModelRecord]:
    return store.list_base_models()


@router.put("/base-models/{key}", response_model=BaseModelRecord)
def upsert_base_model(key: Key, body: BaseModelIn, store: StoreDep,
                      caller: Platform("change the base-model catalog")) -> BaseModelRecord:
    return store.upsert_base_model(key=key, **body.model_dump())


@router.get("/base-models/by-id/{base_id}", response_model=BaseModelRecord)
def get_base_model_by_id(base_id: Annotated[int, Path(ge=1, le=2_147_483_647)], store: StoreDep) -> BaseModelRecord:
    return store.get_base_model(base_id)


@router.get("/base-models/{key}", response_model=BaseModelRecord)
def get_base_model(key: Key, store: StoreDep) -> BaseModelRecord:
    return store.get_base_model(key)
