"""``create_app``: the hubkit service, a FastAPI app over one Store.

JupyterHub starts it as a managed service and proxies ``/services/<name>/``
to it without stripping that prefix, so every route lives under
``JUPYTERHUB_SERVICE_PREFIX`` (``/`` when run on its own).
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.concurrency import run_in_threadpool

from hubkit.archive import Archive
from hubkit.config import Settings, load_settings
from hubkit.errors import Conflict, ValidationError
from hubkit.service.access import mark_platform_routes
from hubkit.service.auth import Authenticator, Identity, default_authenticator
from hubkit.service.errors import Unauthenticated, error_body, install_handlers
from hubkit.service.job_auth import JobTokenAuthenticator
from hubkit.service.routes import ROUTERS
from hubkit.store import Store, open_store

_URL_TOKEN_PARAMS = ("token", "access_token", "api_token")


class UserSync:
    """Keeps the store's users in step with the hub: created on first sight, roles from hub groups."""

    def __init__(self, store: Store, *, ttl_s: float = 60.0) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    async def ensure(self, identity: Identity) -> None:
        key = (identity.name, identity.role)
        with self._lock:
            if self._seen.get(key, 0.0) > time.monotonic():
                return
        await run_in_threadpool(self._sync, identity)
        with self._lock:
            self._seen[key] = time.monotonic() + self.ttl_s

    def _sync(self, identity: Identity) -> None:
        record = self.store.ensure_user(identity.name, role=identity.role)
        set_role = getattr(self.store, "set_role", None)  # LocalStore; the hub's groups are the truth
        if record.role.value != identity.role and set_role is not None:
            set_role(identity.name, identity.role)


def service_prefix() -> str:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    return "/" + prefix.strip("/") if prefix.strip("/") else ""


def create_app(settings: Settings | None = None, store: Store | None = None,
               auth: Authenticator | None = None, *, prefix: str | None = None) -> FastAPI:
    """The service over ``store`` (default: the configured run database), checking tokens with ``auth``."""
    settings = settings or load_settings()
    store = store or open_store(settings.database_url, settings=settings)
    prefix = service_prefix() if prefix is None else ("/" + prefix.strip("/") if prefix.strip("/") else "")
    app = FastAPI(
        title="hubkit service",
        version="1",
        description="Runs, datasets, jobs, scores and downloads of AI Model Hub, for user kernels "
                    "(with their JupyterHub token), the apps and platform workers.",
        openapi_url=f"{prefix}/openapi.json",
        docs_url=f"{prefix}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    # a job's kernel holds a job token; everything else goes to the hub (or the demo table)
    app.state.auth = JobTokenAuthenticator(auth or default_authenticator(), settings=settings, store=store)
    app.state.users = UserSync(store)
    app.state.archive = lru_cache(maxsize=1)(lambda: Archive(settings.archive_root))
    install_handlers(app)
    _install_guards(app)
    api = APIRouter(prefix=prefix)
    for router in ROUTERS:
        mark_platform_routes(router)
        api.include_router(router)
    api.add_api_route("/health", _health, methods=["GET"], tags=["service"], response_model=dict[str, str])
    app.include_router(api)
    return app


def _health() -> dict[str, str]:
    return {"status": "ok"}


def _install_guards(app: FastAPI) -> None:
    @app.middleware("http")
    async def refuse_tokens_in_urls(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # tokens in URLs end up in logs and browser history; JupyterHub refuses them too
        if any(p in request.query_params for p in _URL_TOKEN_PARAMS):
            exc = Unauthenticated("Tokens belong in the Authorization header, never in the address.")
            return JSONResponse(error_body(exc), status_code=401, headers={"WWW-Authenticate": "token"})
        return await call_next(request)

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> JSONResponse:
        error = ValidationError("A value is out of range or too long to be recorded.", detail=str(exc.orig))
        return JSONResponse(error_body(error), status_code=422)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        error = Conflict("This refers to something that does not exist or already exists.", detail=str(exc.orig))
        return JSONResponse(error_body(error), status_code=409)
