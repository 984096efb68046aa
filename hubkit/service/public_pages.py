"""The public Voilà pages as the hub serves them: visitors' kernels are capped and idle ones culled.

Every visit to a Voilà page runs the page's notebook in a kernel of its own (a
preheated one from Voilà's pool when one waits, else one started for the
request). Voilà shuts that kernel down when the visitor's page posts its
goodbye on unload, but a crawler, a script or a closed laptop never does, so
plain Voilà keeps one kernel per such visit until the machine runs out of
memory. This app is Voilà with three settings from :mod:`hubkit.config`:

- ``HUBKIT_PUBLIC_KERNEL_CAP``: at most this many kernels serve visitors at
  once; the preheated pool (``HUBKIT_PUBLIC_POOL_SIZE`` per page) comes on top.
  Past it a visitor gets a short "busy, try again in a moment" page (429 with
  ``Retry-After``: a crowd is the visitors' side of the story, never a server
  error) instead of a new kernel.
- ``HUBKIT_PUBLIC_KERNEL_IDLE_S``: a visitor's kernel with no page connected
  and no activity for this long is culled by jupyter_server's own culler
  (Voilà keeps its pooled kernels out of it). A page still open keeps its kernel.

Voilà refills its pool in the background after each visit takes a kernel; the
builder, which asks a visitor to sign in, has no pool here (``UNPOOLED``). The
page is also served with its ``_xsrf`` cookie, without which Voilà refuses the
goodbye (403) and the kernel outlives its visitor, and with a cookie that gives the
visitor their visit's kernel and no other (:mod:`hubkit.service.visit_kernels`).

    python -m hubkit.service.public_pages voila_apps --port=8866 --Voila.config_file_paths=voila_apps
"""
from __future__ import annotations

import html
from typing import Any

import tornado.web
from jupyter_core.utils import ensure_async
from jupyter_server.auth import Authorizer
from traitlets import Integer, Type
from traitlets.config import Config
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.handler import TornadoVoilaHandler

from hubkit.config import load_settings
from hubkit.errors import ConfigError
from hubkit.service.visit_kernels import (
    VisitAuthorizer,
    VisitRequestInfoHandler,
    VisitShutdownHandler,
    grant,
    release_request_info,
)

BUSY_STATUS = 429  # Too Many Requests, with Retry-After: never a 5xx
# pages that a visitor only sees asking them to sign in: a preheated kernel (~200 MB) would wait for nothing
UNPOOLED = ("builder.ipynb",)
BUSY_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Busy, try again in a moment</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:34em;margin:4em auto;padding:0 1em;color:#222}}</style>
</head><body>
<h1>Busy, try again in a moment</h1>
<p>Many people are looking at these pages right now, so this one could not be opened.
Please try again in {retry} seconds.</p>
<p><a href="{again}">Try again</a></p>
</body></html>
"""


def standby_kernels(kernel_manager: Any) -> set[str]:
    """Kernels waiting in Voilà's preheated pools for their visitor.

    voila 0.5 (pinned) keeps each pool as tasks in ``_pools``; a finished task
    holds its kernel's id. These kernels are the pool, not visitors.
    """
    waiting: set[str] = set()
    for pool in getattr(kernel_manager, "_pools", {}).values():
        for task in pool:
            if task.done() and not task.cancelled() and task.exception() is None:
                waiting.add(task.result()["kernel_id"])
    return waiting


class KernelGate:
    """Admits a visit while the visitors' kernels alive, plus visits still waiting for one, are under ``cap``."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.waiting = 0  # visits admitted whose kernel is not started or taken from the pool yet

    def visitors(self, kernel_manager: Any) -> int:
        return len(set(kernel_manager.list_kernel_ids()) - standby_kernels(kernel_manager))

    def enter(self, kernel_manager: Any) -> bool:
        if self.visitors(kernel_manager) + self.waiting >= self.cap:
            return False
        self.waiting += 1
        return True

    def has_kernel(self) -> None:
        """The visit's kernel is alive now and counted among the visitors'."""
        self.waiting -= 1


class _VisitKernels:
    """The kernel manager as one visit's handler sees it: it tells the handler which kernel the visit got.

    Voilà's handler gets a visit's kernel in one of two calls: ``get_rendered_notebook``
    (from the preheated pool) or ``start_kernel`` (a kernel for this request).
    """

    def __init__(self, manager: Any, got_kernel: Any) -> None:
        self._manager = manager
        self._got_kernel = got_kernel

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)

    async def get_rendered_notebook(self, *args: Any, **kwargs: Any) -> Any:
        rendered = await self._manager.get_rendered_notebook(*args, **kwargs)
        self._got_kernel(rendered[2])  # (render task, cells rendered so far, kernel id)
        return rendered

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        kernel_id = await ensure_async(self._manager.start_kernel(*args, **kwargs))
        self._got_kernel(kernel_id)
        return kernel_id


class CappedVoilaHandler(TornadoVoilaHandler):
    """Voilà's page handler behind the gate: past the cap, the busy page instead of a kernel."""

    def initialize(self, **kwargs: Any) -> None:
        self.gate: KernelGate = kwargs.pop("gate")
        self.retry_s: int = kwargs.pop("retry_s")
        self._waiting = False
        super().initialize(**kwargs)

    @property
    def kernel_manager(self) -> Any:
        return _VisitKernels(self.settings["kernel_manager"], self._got_kernel)

    def _got_kernel(self, kernel_id: str | None) -> None:
        if kernel_id is not None:
            grant(self, kernel_id)  # both of Voilà's ways get the kernel before the page's first byte
        if self._waiting:
            self._waiting = False
            self.gate.has_kernel()

    @tornado.web.authenticated
    async def get(self, path: str | None = None) -> None:
        kernels = self.settings["kernel_manager"]
        held = release_request_info(set(kernels.list_kernel_ids()))
        self.log.debug("Request info held for %d kernels", held)
        if not self.gate.enter(kernels):
            self.log.warning("Public pages busy: %d visitors' kernels, %s refused", self.gate.cap, self.request.path)
            self.set_status(BUSY_STATUS)
            self.set_header("Retry-After", str(self.retry_s))
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(BUSY_PAGE.format(retry=self.retry_s, again=html.escape(self.request.uri or "", quote=True)))
            return
        self._waiting = True
        # the page's goodbye on unload (a form post to voila/api/shutdown/<kernel>) sends the _xsrf
        # cookie, which Voilà's page never sets itself
        self.xsrf_token  # noqa: B018 - reading it sets the cookie
        try:
            await super().get(path)
        finally:
            self._got_kernel(None)  # a visit that ended without a kernel (a redirect, an error) waits no more


class PublicPages(Voila):
    """Voilà with the kernel cap on its page handler and the idle culler on its kernel manager."""

    kernel_cap = Integer(8, config=True, help="Kernels serving visitors at once (the preheated pool comes on top).")
    retry_after_s = Integer(5, config=True, help="Seconds the busy page asks a visitor to wait.")
    authorizer_class = Type(VisitAuthorizer, klass=Authorizer, config=True,
                            help="Kernels only to the visitor whose visit got them (see visit_kernels).")

    def initialize(self, argv: Any = None) -> None:
        settings = load_settings()
        idle = settings.public_kernel_idle_s
        if settings.public_kernel_cap < 1 or idle < 1:
            raise ConfigError("HUBKIT_PUBLIC_KERNEL_CAP and HUBKIT_PUBLIC_KERNEL_IDLE_S must be at least 1 "
                              f"(got {settings.public_kernel_cap} and {idle}).")
        # defaults from hubkit's settings; the command line and voila.json still win
        self.update_config(Config({
            "PublicPages": {"kernel_cap": settings.public_kernel_cap},
            "MappingKernelManager": {"cull_idle_timeout": idle, "cull_interval": max(1, min(60, idle // 4)),
                                     "cull_connected": False, "cull_busy": False},
            "VoilaKernelManager": {"preheat_denylist": list(UNPOOLED)},
        }))
        super().initialize(argv)

    def init_settings(self) -> dict:
        settings = super().init_settings()
        # the pages' _xsrf cookie stays under their own path: the hub keeps one of the same name under /hub/,
        # and a second one at / would be sent with the hub's forms too
        settings["xsrf_cookie_kwargs"] = {"path": self.base_url}
        return settings

    def init_handlers(self) -> list:
        gate = KernelGate(self.kernel_cap)
        capped = []
        for route in super().init_handlers():
            if len(route) == 3 and route[1] is TornadoVoilaHandler:
                route = (route[0], CappedVoilaHandler, {**route[2], "gate": gate, "retry_s": self.retry_after_s})
            elif route[1] is VoilaShutdownKernelHandler:
                route = (route[0], VisitShutdownHandler, *route[2:])
            elif route[1] is RequestInfoSocketHandler:
                route = (route[0], VisitRequestInfoHandler, *route[2:])
            capped.append(route)
        return capped


main = PublicPages.launch_instance

if __name__ == "__main__":
    main()
