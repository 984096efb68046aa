"""Errors as HTTP answers: one status per error class, one JSON shape for all.

Every answer that is not a success carries ``{"error": <plain sentence>,
"detail": ..., "type": <error class>}`` so ``ApiStore`` can raise the same
typed error a ``LocalStore`` would have raised.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from hubkit import errors as e

log = logging.getLogger("hubkit.service")


class Unauthenticated(e.PermissionDenied):
    """No valid token where one is needed (HTTP 401)."""


class UploadTooLarge(e.ValidationError):
    """An upload went over ``Settings.max_upload_bytes`` (HTTP 413)."""


# most specific first: the first class an error is an instance of gives its status
STATUS: tuple[tuple[type[e.HubkitError], int], ...] = (
    (Unauthenticated, 401),
    (UploadTooLarge, 413),
    (e.UnsafePath, 400),
    (e.ValidationError, 422),
    (e.NotFound, 404),
    (e.PermissionDenied, 403),
    (e.Conflict, 409),
    (e.MissingExtra, 501),
    (e.JobError, 409),
    (e.ArchiveIntegrityError, 500),
    (e.HubkitError, 400),
)

_PLAIN = {
    400: "The request could not be understood.",
    401: "You need to log in to do this.",
    403: "You are not allowed to do this.",
    404: "There is nothing here.",
    405: "This address does not accept that kind of request.",
    409: "This contradicts what is already recorded.",
    413: "The upload is too large.",
    422: "Some of the values sent are not valid.",
}


class ErrorOut(BaseModel):
    """The body of every error answer."""

    error: str
    detail: Any = None
    type: str
    field: str | None = None
    file: str | None = None
    row: int | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in _PLAIN.items() if code not in (405,)
}


def status_of(exc: e.HubkitError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def error_body(exc: e.HubkitError) -> dict[str, Any]:
    return ErrorOut(error=exc.message, detail=exc.detail, type=type(exc).__name__,
                    field=getattr(exc, "field", None), file=getattr(exc, "file", None),
                    row=getattr(exc, "row", None)).model_dump()


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(e.HubkitError)
    async def _hubkit(request: Request, exc: e.HubkitError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc.detail)
        headers = {"WWW-Authenticate": "token"} if status == 401 else None
        return JSONResponse(error_body(exc), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"loc": list(p.get("loc", ())), "msg": p.get("msg", "")} for p in exc.errors()]
        where = ".".join(str(x) for x in problems[0]["loc"][1:]) if problems else ""
        message = f"The value for {where} is not valid: {problems[0]['msg']}." if where else _PLAIN[422]
        body = ErrorOut(error=message, detail=problems, type="ValidationError", field=where or None)
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = ErrorOut(error=_PLAIN.get(exc.status_code, str(exc.detail)), detail=exc.detail,
                        type="NotFound" if exc.status_code == 404 else "HubkitError")
        return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=getattr(exc, "headers", None))
