"""Running the service: in the foreground for JupyterHub, or in a thread for tests and benchmarks.

The access log never holds a query string's values: a token sent as ``?token=``
is refused by the service, but the line logging that request would otherwise
keep it (and the log is readable by whoever reads the hub's log).
"""
from __future__ import annotations

import copy
import logging
import os
import socket
import threading
import time
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from hubkit.errors import ConfigError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def bind_address() -> tuple[str, int]:
    """Where JupyterHub told the service to listen (``JUPYTERHUB_SERVICE_URL``), else HUBKIT_SERVICE_BIND."""
    url = os.environ.get("JUPYTERHUB_SERVICE_URL") or os.environ.get("HUBKIT_SERVICE_BIND", "http://127.0.0.1:8181")
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        raise ConfigError(f"The service address {url!r} needs a host and a port.")
    return parts.hostname, parts.port


def redact_query(target: str) -> str:
    """``/v1/me?token=abc&x=1`` → ``/v1/me?token=[redacted]&x=[redacted]``: names kept, values never."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    return path + "?" + "&".join(f"{part.partition('=')[0]}=[redacted]" for part in query.split("&") if part)


class RedactQuery(logging.Filter):
    """Redacts the request target of uvicorn's access-log records (``'%s - "%s %s HTTP/%s" %d'``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with :class:`RedactQuery` on the access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_query"] = {"()": RedactQuery}
    config["handlers"]["access"]["filters"] = ["redact_query"]
    return config


def serve(app: FastAPI | None = None, *, host: str | None = None, port: int | None = None,
          workers: int | None = None) -> None:
    """Serve until stopped (what ``python -m hubkit.service`` runs).

    Without ``app``, uvicorn runs ``workers`` processes (default: the ``service_workers``
    setting), each building its own app from the settings through the ``create_app`` factory;
    an ``app`` given here is served by this one process."""
    from hubkit.config import load_settings
    from hubkit.service.app import create_app

    default_host, default_port = bind_address()
    options: dict[str, Any] = {
        "host": host or default_host, "port": port or default_port, "proxy_headers": False,
        "log_level": os.environ.get("HUBKIT_SERVICE_LOG_LEVEL", "info"), "log_config": log_config()}
    count = workers or load_settings().service_worker_count
    if app is not None or count == 1:
        uvicorn.run(app or create_app(), **options)
    else:
        uvicorn.run("hubkit.service.app:create_app", factory=True, workers=count, **options)


class BackgroundServer:
    """``with BackgroundServer(app) as url:`` — a real uvicorn server on a free loopback port."""

    def __init__(self, app: FastAPI, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan="off",
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"hubkit-service-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 20.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start on {self.url}")
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
