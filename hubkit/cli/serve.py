"""``hubkit serve api | hub``: the service alone, or the whole hub on http://127.0.0.1:8000."""
from __future__ import annotations

import argparse
import os
import signal
from types import FrameType

from hubkit.config import load_settings
from hubkit.db import upgrade


def _api(args: argparse.Namespace) -> int:
    from hubkit.service import serve

    upgrade(load_settings().database_url)
    serve(host=args.host, port=args.port)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # a plain `kill` stops the hub and everything it started, like Ctrl-C


def _hub(args: argparse.Namespace) -> int:
    from hubkit.service.hub_process import HubProcess, admin_password, hub_environment, sign_up

    settings = load_settings()
    upgrade(settings.database_url)
    overrides = {"HUBKIT_HOME": str(settings.home.resolve())}
    if args.url:
        overrides["HUBKIT_HUB_URL"] = args.url
    env = hub_environment(overrides)
    admin = env.get("HUBKIT_ADMIN_USER", "admin")
    password = admin_password(settings.home.resolve())
    signal.signal(signal.SIGTERM, _interrupt)
    with HubProcess(env) as hub:
        sign_up(hub.url, admin, password)
        print(f"AI Model Hub is running at {hub.url}/", flush=True)
        print(f"Admin login: {admin} / {password}", flush=True)
        print(f"Public pages (no login): {hub.url}/services/public/", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            return hub.wait()
        except KeyboardInterrupt:
            return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="run the hubkit service or the whole hub")
    sub = serve.add_subparsers(dest="what", required=True, metavar="WHAT")
    api = sub.add_parser("api", help="the hubkit HTTP service alone (JupyterHub runs this as a service)")
    api.add_argument("--host", default=None, help="address to listen on (default from JUPYTERHUB_SERVICE_URL)")
    api.add_argument("--port", type=int, default=None, help="port to listen on")
    api.set_defaults(func=_api)
    hub = sub.add_parser("hub", help="JupyterHub with the service and the public pages; prints the admin login")
    hub.add_argument("--url", default=os.environ.get("HUBKIT_HUB_URL"),
                     help="public address (default http://127.0.0.1:8000)")
    hub.set_defaults(func=_hub)
