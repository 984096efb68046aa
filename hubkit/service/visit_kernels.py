"""Which kernels a public-pages visitor may touch: only those of their own visits.

Voilà serves ``api/kernels/<id>`` (read, shut down), ``api/kernels/<id>/channels``
(the websocket that runs code in the kernel) and ``voila/api/shutdown/<id>`` (the
page's goodbye) to anyone who names a kernel id. The id is in the visitor's own
page only, but a link shared with its page source, a proxy log or a browser
extension is enough to hand another visitor's kernel to whoever reads it. So each
visit's page is served with a signed cookie naming its kernel (under the pages'
path, HttpOnly, one day), and jupyter_server's authorizer refuses (403) the
kernel API for any kernel the request carries no such cookie for, whether it
exists or not. The goodbye drops the cookie with the kernel.

Voilà also keeps each preheated visit's request info for the kernel's own
``voila/query/<id>`` websocket in a class-level dict and never empties it: a page
that does not read its query string (hub, museum, observatory) leaves one entry
per visit for the life of the server. :func:`release_request_info` drops the
entries of kernels that have ended (at each visit), and a payload is dropped once
delivered.
"""
from __future__ import annotations

from typing import Any

import tornado.web
from jupyter_server.auth import Authorizer
from voila.request_info_handler import RequestInfoSocketHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler

VISIT_DAYS = 1  # a visit's cookie outlives any kernel the idle culler leaves alive


def _cookie(kernel_id: str) -> str:
    return f"hubkit-visit-{kernel_id}"


def grant(handler: tornado.web.RequestHandler, kernel_id: str) -> None:
    """Give this visitor their visit's kernel (before the page's first byte: it is a cookie)."""
    handler.set_signed_cookie(_cookie(kernel_id), kernel_id, expires_days=VISIT_DAYS, httponly=True,
                              samesite="Strict", path=handler.settings["base_url"])


def owns(handler: tornado.web.RequestHandler, kernel_id: str) -> bool:
    signed = handler.get_signed_cookie(_cookie(kernel_id), max_age_days=VISIT_DAYS)
    return signed is not None and signed.decode() == kernel_id


class VisitAuthorizer(Authorizer):
    """Kernels only to the visitor whose visit got them; everything else as plain Voilà allows."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        if resource != "kernels":
            return True
        kernel_id = handler.path_kwargs.get("kernel_id")
        return bool(kernel_id) and owns(handler, kernel_id)


class VisitShutdownHandler(VoilaShutdownKernelHandler):
    """The page's goodbye, for the visitor's own kernel only."""

    @tornado.web.authenticated
    async def post(self, kernel_id: str) -> None:
        if not owns(self, kernel_id):
            raise tornado.web.HTTPError(403)
        self.clear_cookie(_cookie(kernel_id), path=self.settings["base_url"])
        await super().post(kernel_id)


class VisitRequestInfoHandler(RequestInfoSocketHandler):
    """Voilà's request-info websocket that hands a waiting payload over once and lets it go."""

    def open(self, kernel_id: str) -> None:
        super().open(kernel_id)
        RequestInfoSocketHandler._cache.pop(kernel_id, None)


def release_request_info(alive: set[str]) -> int:
    """Drop the request info Voilà holds for kernels no longer alive; returns how many are still held."""
    cache: dict = RequestInfoSocketHandler._cache
    for kernel_id in [k for k in cache if k not in alive]:
        del cache[kernel_id]
    return len(cache)
