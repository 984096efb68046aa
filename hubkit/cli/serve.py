"""``hubkit serve api | hub | eval-worker``: the service, the whole hub on http://127.0.0.1:8000, or the
platform's evaluation worker (which the other two start with themselves)."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType

from hubkit.config import load_settings
from hubkit.db import upgrade


@contextmanager
def _worker_process(enabled: bool) -> Iterator[None]:
    """``hubkit serve eval-worker`` beside the service, stopped with it."""
    if not enabled:
        yield
        return
    worker = subprocess.Popen([sys.executable, "-m", "hubkit.cli", "serve", "eval-worker"])
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _api(args: argparse.Namespace) -> int:
    from hubkit.service import serve

    upgrade(load_settings().database_url)
    with _worker_process(args.eval_worker):
        serve(host=args.host, port=args.port)
    return 0


def _eval_worker(args: argparse.Namespace) -> int:
    from hubkit.evaluate.worker import WorkerOptions, serve
    from hubkit.store import LocalStore

    settings = load_settings()
    upgrade(settings.database_url)
    options = WorkerOptions.from_settings(settings)
    if args.limit is not None:
        options = replace(options, limit=args.limit or None)
    if args.domains:
        options = replace(options, domains=tuple(args.domains))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # A stop (SIGTERM or Ctrl-C) ends the worker now, mid-evaluation too: the request it held goes
    # back to the queue for the next worker (evaluate_claimed), so a stop never waits out a scoring.
    stop_on_signals()
    print(f"Evaluation worker scoring every finished run in {settings.database_url}"
          + (f", {options.limit} items per task" if options.limit else "") + ".", flush=True)
    try:
        scored = serve(LocalStore(settings.database_url), options=options, drain=args.drain)
    except KeyboardInterrupt:
        print("Evaluation worker stopped; an unfinished scoring went back to the queue.", flush=True)
    else:
        print(f"{scored} run(s) scored.", flush=True)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # a plain `kill` stops the hub and everything it started, like Ctrl-C


def stop_on_signals() -> None:
    """SIGTERM and SIGINT both stop the platform. SIGINT is set too, not left to Python's default:
    a shell starts a background command (`make demo &` in a script) with SIGINT ignored, and
    Python keeps an inherited ignore, so Ctrl-C or `kill -INT` would otherwise do nothing."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)


def _hub(args: argparse.Namespace) -> int:
    from hubkit.service.hub_process import (
        HubProcess,
        admin_password,
        hub_environment,
        sign_up,
    )

    settings = load_settings()
    upgrade(settings.database_url)
    overrides = {"HUBKIT_HOME": str(settings.home.resolve())}
    if args.url:
        overrides["HUBKIT_HUB_URL"] = args.url
    env = hub_environment(overrides)
    admin = env.get("HUBKIT_ADMIN_USER", "admin")
    password = admin_password(settings.home.resolve())
    stop_on_signals()
    with HubProcess(env) as hub:
        sign_up(hub.url, admin, password)  # the admin's account is approved as it is made
        print(f"AI Model Hub is running at {hub.url}/", flush=True)
        print(f"Admin login: {admin} / {password}", flush=True)
        print(f"New sign-ups wait for approval: log in as {admin} and approve them at {hub.url}/hub/authorize",
              flush=True)
        print(f"Public pages (no login): {hub.url}/services/public/", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            code = hub.wait()
        except KeyboardInterrupt:
            code = 0
    # everything the platform started has stopped; skip the interpreter's seconds-long teardown
    # of the service stack this process imported, so the prompt comes back at once
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="run the hubkit service or the whole hub")
    sub = serve.add_subparsers(dest="what", required=True, metavar="WHAT")
    api = sub.add_parser("api", help="the hubkit HTTP service alone (JupyterHub runs this as a service)")
    api.add_argument("--host", default=None, help="address to listen on (default from JUPYTERHUB_SERVICE_URL)")
    api.add_argument("--port", type=int, default=None, help="port to listen on")
    api.add_argument("--eval-worker", action=argparse.BooleanOptionalAction, default=True,
                     help="also run the platform's evaluation worker (default: yes)")
    api.set_defaults(func=_api)
    worker = sub.add_parser("eval-worker", help="the platform's evaluation worker: scores every run that "
                            "ended with an adapter, once (the hub and 'serve api' start one)")
    worker.add_argument("--limit", type=int, default=None,
                        help="items per task (default HUBKIT_EVAL_LIMIT; 0 = every item)")
    worker.add_argument("--domains", nargs="+", metavar="DOMAIN", help="score only these domains (default: all)")
    worker.add_argument("--drain", action="store_true", help="stop once no run is waiting")
    worker.set_defaults(func=_eval_worker)
    hub = sub.add_parser("hub", help="JupyterHub with the service and the public pages; prints the admin login")
    hub.add_argument("--url", default=os.environ.get("HUBKIT_HUB_URL"),
                     help="public address (default http://127.0.0.1:8000)")
    hub.set_defaults(func=_hub)
