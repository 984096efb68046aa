"""Everything ``jupyterhub_config.py`` sets, as plain functions a test can load and check.

The config file stays a face with no logic: ``configure(c)``. Where users'
servers and jobs run is a :class:`hubkit.service.deployments.Deployment`
class named by ``HUBKIT_SPAWNER`` (``local``: each user's own system account,
the default under root; ``single-user``; ``kubernetes``; ``slurm``; or
``package.module:Class``).
"""
from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hubkit.errors import ConfigError
from hubkit.service.deployments import default_deployment, deployment_class
from hubkit.service.native import whole_number

REPO = Path(__file__).resolve().parents[2]
GROUPS = ("casual", "developers", "educators", "researchers", "admins")
# where each group lands in its server; users in no group are casual
LANDING = {"developers": "/lab", "researchers": "/lab", "educators": "/lab", "admins": "/lab",
           "casual": "/voila/render/builder.ipynb"}
IDLE_CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
SERVER_TOKEN_SCOPES = ["access:servers!server", "users:activity!user", "read:users:name!user",
                       "read:users:groups!user"]
PLATFORM_SERVICE = "hubkit-platform"
Env = Mapping[str, str]


def _port(env: Env, name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a port number (got {raw!r}).")
    return int(raw)


def hub_home(env: Env) -> Path:
    return Path(env.get("HUBKIT_HOME", ".hubkit")).expanduser().resolve()


def public_url(env: Env) -> str:
    return env.get("HUBKIT_HUB_URL", "http://127.0.0.1:8000").rstrip("/")


def hubkit_env(env: Env) -> dict[str, str]:
    """The HUBKIT_* settings the hub's services inherit (JupyterHub passes no environment on its own)."""
    keep = {k: v for k, v in env.items() if k.startswith("HUBKIT_")}
    keep["HUBKIT_HOME"] = str(hub_home(env))
    for name in ("PATH", "HF_HOME", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_NO_ADVISORY_WARNINGS",
                 "CUDA_VISIBLE_DEVICES"):
        if name in env:
            keep[name] = env[name]
    return keep


def platform_ports(env: Env) -> dict[str, int]:
    """Every port the hub and its services listen on, by what listens there."""
    from urllib.parse import urlsplit

    return {"the hub's public address": urlsplit(public_url(env)).port or 80,
            "the hub's API": _port(env, "HUBKIT_HUB_API_PORT", 8081),
            "the proxy's API": _port(env, "HUBKIT_PROXY_API_PORT", 8001),
            "the hubkit service": _port(env, "HUBKIT_SERVICE_PORT", 8181),
            "the public pages": _port(env, "HUBKIT_PUBLIC_PORT", 8866)}


def landing_for(groups: list[str]) -> str:
    for group in ("admins", "researchers", "educators", "developers"):
        if group in groups:
            return LANDING[group]
    return LANDING["casual"]


# --- services ------------------------------------------------------------------------------
def services(env: Env, *, executor: str = "local") -> list[dict[str, Any]]:
    """The hub-managed services: the hubkit API (running jobs with ``executor``), the public Voilà pages,
    the evaluation worker, the idle culler."""
    py = sys.executable
    shared = hubkit_env(env)
    api_port = _port(env, "HUBKIT_SERVICE_PORT", 8181)
    api = {**shared, "HUBKIT_EXECUTOR": executor,
           # jobs that run as their owner record through the service, on loopback
           "HUBKIT_JOB_SERVICE_URL": f"http://127.0.0.1:{api_port}/services/hubkit"}
    public_port = _port(env, "HUBKIT_PUBLIC_PORT", 8866)
    found = [
        {"name": "hubkit", "url": f"http://127.0.0.1:{api_port}", "display": False,
         "command": [py, "-m", "hubkit.service"], "environment": api,
         # JupyterHub waits 30 s by default; its uvicorn workers (4 on PostgreSQL) each import
         # the service before it answers, which takes longer on a busy machine
         "timeout": 300},
        {"name": "public", "url": f"http://127.0.0.1:{public_port}", "display": True,
         # Voilà with a cap on visitors' kernels and an idle culler (HUBKIT_PUBLIC_KERNEL_CAP, _IDLE_S)
         "command": [py, "-m", "hubkit.service.public_pages", "--no-browser", "--Voila.ip=127.0.0.1",
                     f"--port={public_port}",
                     "--base_url=/services/public/", f"--Voila.config_file_paths={REPO / 'voila_apps'}",
                     f"--VoilaConfiguration.default_pool_size={_port(env, 'HUBKIT_PUBLIC_POOL_SIZE', 1)}", str(REPO / "voila_apps")],
         "environment": {**shared, "HUBKIT_PUBLIC_PAGES": "1"}, "timeout": 300},
        {"name": "eval-worker", "display": False,
         "command": [py, "-m", "hubkit.cli", "serve", "eval-worker"], "environment": shared},
        {"name": "idle-culler", "display": False,
         "command": [py, "-m", "jupyterhub_idle_culler",
                     f"--timeout={_port(env, 'HUBKIT_IDLE_TIMEOUT_S', 3600)}"]},
    ]
    if env.get("HUBKIT_PLATFORM_TOKEN"):
        # an external service: platform workers use its token to record scores through the API
        found.append({"name": PLATFORM_SERVICE, "api_token": env["HUBKIT_PLATFORM_TOKEN"], "display": False})
    return found


def roles() -> list[dict[str, Any]]:
    return [
        {"name": "idle-culler", "scopes": IDLE_CULLER_SCOPES, "services": ["idle-culler"]},
        {"name": "hubkit-service", "scopes": ["read:users:groups", "read:users:name"], "services": ["hubkit"]},
    ]


# --- the whole hub -------------------------------------------------------------------------------
def configure(c: Any, env: Env | None = None) -> None:
    env = os.environ if env is None else env
    state = hub_home(env) / "hub"
    state.mkdir(parents=True, exist_ok=True)
    c.JupyterHub.bind_url = public_url(env) + "/"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{_port(env, 'HUBKIT_HUB_API_PORT', 8081)}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_port(env, 'HUBKIT_PROXY_API_PORT', 8001)}"
    c.ConfigurableHTTPProxy.should_start = True
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
    c.JupyterHub.cleanup_servers = True

    c.JupyterHub.authenticator_class = "hubkit.service.native.HubkitNativeAuthenticator"
    # new accounts wait for an admin's approval unless the operator opens sign-up on purpose
    c.NativeAuthenticator.open_signup = env.get("HUBKIT_OPEN_SIGNUP", "0") in ("1", "true", "yes")
    c.NativeAuthenticator.minimum_password_length = 8
    c.NativeAuthenticator.check_common_password = True  # and never the username (HubkitNativeAuthenticator)
    # failed logins per account, the admin's included: after this many, a wait before the next try
    c.NativeAuthenticator.allowed_failed_logins = whole_number(env, "HUBKIT_LOGIN_ATTEMPTS", 5, least=1)
    c.NativeAuthenticator.seconds_before_next_try = whole_number(env, "HUBKIT_LOGIN_WAIT_S", 300, least=1)
    c.Authenticator.admin_users = {env.get("HUBKIT_ADMIN_USER", "admin")}
    c.Authenticator.allow_all = True  # NativeAuthenticator's sign-up approval decides who may log in
    if public_url(env).startswith("https://"):  # hub, servers and services set Secure cookies only
        c.JupyterHub.tornado_settings = {"cookie_options": {"secure": True}}
    c.JupyterHub.load_groups = {name: {"users": []} for name in GROUPS}

    deployment = deployment_class(env.get("HUBKIT_SPAWNER") or default_deployment())(
        env, hub_home=hub_home(env), public_url=public_url(env))
    deployment.configure(c)
    c.Spawner.default_url = LANDING["casual"]
    c.Spawner.pre_spawn_hook = pre_spawn_hook
    c.Spawner.server_token_scopes = SERVER_TOKEN_SCOPES
    # kernels reach the run database only through the service, with their own token
    c.Spawner.environment = deployment.user_environment()
    c.JupyterHub.services = services(env, executor=deployment.executor_name())
    c.JupyterHub.load_roles = roles()


def pre_spawn_hook(spawner: Any) -> None:
    """Land each group where it works, and put the apps and notebooks in a local user's home."""
    groups = [g.name for g in spawner.user.groups]
    spawner.default_url = landing_for(groups)
    home = getattr(spawner, "home_dir", None)
    if home:
        seed_home(Path(home))


def seed_home(home: Path) -> None:
    """The Voilà apps at the top (``/voila/render/builder.ipynb``), notebooks and templates to edit.

    The apps' ``voila.json`` goes beside them: Voilà inside a user's server reads it from
    the server's folder (the apps' template, plotly's renderer extension left out).
    """
    home.mkdir(parents=True, exist_ok=True)
    for app in [*sorted((REPO / "voila_apps").glob("*.ipynb")), REPO / "voila_apps" / "voila.json"]:
        shutil.copyfile(app, home / app.name)  # apps are refreshed; users do not edit them
    for folder in ("notebooks", "templates"):
        source, target = REPO / folder, home / folder
        if source.is_dir() and not target.exists():
            shutil.copytree(source, target)  # a user's own copy, never overwritten
