"""Start the whole hub (JupyterHub + proxy + services), wait until it answers, sign users up.

``hubkit serve hub`` uses this, and so does the end-to-end test; sign-up and
login go through NativeAuthenticator's own forms, exactly as a browser would.
"""
from __future__ import annotations

import html
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self
from urllib.parse import quote

import httpx

from hubkit.errors import ConfigError, HubkitError
from hubkit.service.hub_config import REPO, hub_home, platform_ports, public_url
from hubkit.service.processes import ProcessTree, explain_leftovers

NODE_BIN = REPO / ".venv" / "node" / "node_modules" / ".bin"
_XSRF = re.compile(r'name="_xsrf" value="([^"]+)"')
_ALERT = re.compile(r'<div class="alert (alert-[a-z]+)"[^>]*>\s*<p>\s*(.*?)\s*</p>', re.DOTALL)


def hub_environment(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the proxy and the venv's tools on PATH."""
    env = {**os.environ, **(overrides or {})}
    extra = [str(NODE_BIN), str(Path(sys.executable).parent)]
    env["PATH"] = os.pathsep.join([*extra, env.get("PATH", "")])
    if shutil.which("configurable-http-proxy", path=env["PATH"]) is None:
        raise ConfigError("configurable-http-proxy is not installed; `make demo` installs it "
                          f"(npm install --prefix {NODE_BIN.parents[1]} configurable-http-proxy).")
    return env


def _kept_password(path: Path, avoid: tuple[str, ...] = ()) -> str:
    """A password generated once and kept (owner-only) at ``path``; none of ``avoid`` inside it."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    while any(name.lower() in password.lower() for name in avoid):  # sign-up would refuse it
        password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password)
    return password


def admin_password(home: Path) -> str:
    """HUBKIT_ADMIN_PASSWORD, else one generated once and kept (owner-only) under the hub's folder."""
    given = os.environ.get("HUBKIT_ADMIN_PASSWORD")
    if given:
        return given
    return _kept_password(home / "hub" / "admin-password", avoid=(os.environ.get("HUBKIT_ADMIN_USER", "admin"),))


def demo_users(base_url: str, home: Path, *, admin: str, admin_secret: str,
               users: dict[str, str]) -> str:
    """Sign up the demo accounts (``users``: name → hubkit role), approve them and put each in the
    group of its role; returns their shared password (generated once, kept owner-only)."""
    from hubkit.service.auth import GROUP_ROLES

    group_of = {role: group for group, role in GROUP_ROLES}
    password = _kept_password(home / "hub" / "demo-password", avoid=tuple(users))
    client = log_in(base_url, admin, admin_secret)
    try:
        for name, role in users.items():
            if sign_up(base_url, name, password):
                approve(client, name)
            add_to_group(client, group_of[role], name)
    finally:
        client.close()
    return password


def _form(client: httpx.Client, path: str, fields: dict[str, str]) -> httpx.Response:
    page = client.get(path)
    match = _XSRF.search(page.text)
    data = {**fields, **({"_xsrf": match.group(1)} if match else {})}
    return client.post(path, data=data)


def sign_up(base_url: str, username: str, password: str) -> bool:
    """Create an account through NativeAuthenticator's sign-up form; False when it already exists
    (it is left as it is). A refused password raises ``HubkitError`` with the page's sentence.

    A new account can log in only once an admin approved it (:func:`approve`), unless the
    hub runs with open sign-up or the account is the admin's.
    """
    with httpx.Client(base_url=base_url, follow_redirects=True, timeout=30) as client:
        r = _form(client, "/hub/signup", {"username": username, "signup_password": password,
                                           "signup_password_confirmation": password, "email": ""})
    if r.status_code >= 400:
        raise HubkitError(f"Signing up {username!r} failed ({r.status_code}).", detail=r.text[:500])
    alert = _ALERT.search(r.text)
    if alert is not None and alert.group(1) == "alert-danger":
        sentence = " ".join(html.unescape(alert.group(2)).split())
        if "already in use" in sentence:
            return False
        raise HubkitError(f"Signing up {username!r} was refused: {sentence}")
    return True


def approve(admin: httpx.Client, username: str) -> None:
    """Approve a new account, as the admin does on ``/hub/authorize`` (``admin``: from :func:`log_in`).

    NativeAuthenticator's link toggles approval, so call this once, for an account
    :func:`sign_up` has just created.
    """
    r = admin.get(f"/hub/authorize/{quote(username)}")
    if r.status_code not in (302, 303):
        raise HubkitError(f"Approving {username!r} failed ({r.status_code}).", detail=r.text[:300])


def add_to_group(admin: httpx.Client, group: str, username: str) -> None:
    """Put a user in one of the hub's groups (which sets their hubkit role), through the hub's API."""
    headers = {"X-XSRFToken": admin.cookies.get("_xsrf", path="/hub/") or ""}
    made = admin.post(f"/hub/api/users/{quote(username)}", headers=headers)  # the hub's own user record
    if made.status_code not in (201, 409):
        raise HubkitError(f"Creating the hub user {username!r} failed ({made.status_code}).", detail=made.text[:300])
    r = admin.post(f"/hub/api/groups/{quote(group)}/users", json={"users": [username]}, headers=headers)
    if r.status_code >= 400:
        raise HubkitError(f"Adding {username!r} to the group {group!r} failed ({r.status_code}).",
                          detail=r.text[:300])


def log_in(base_url: str, username: str, password: str) -> httpx.Client:
    """A client holding the hub's login cookie for ``username`` (close it when done)."""
    client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
    r = _form(client, "/hub/login", {"username": username, "password": password})
    if r.status_code not in (302, 303) or "jupyterhub-session-id" not in client.cookies:
        client.close()
        raise HubkitError(f"Logging in as {username!r} failed.", detail=f"{r.status_code}: {r.text[:300]}")
    return client


def open_private_log(path: Path) -> BinaryIO:
    """Open a log for appending, readable by its owner only (0600, also when it already existed):
    logs hold user names, addresses and paths, and must never be a way to read a token."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")


@dataclass
class HubProcess:
    """``with HubProcess(env) as hub:`` — JupyterHub running until the block ends."""

    env: dict[str, str]
    log_path: Path | None = None
    _proc: subprocess.Popen[bytes] | None = None
    _tree: ProcessTree | None = None

    @property
    def url(self) -> str:
        return public_url(self.env)

    def start(self, timeout_s: float = 420.0) -> Self:
        """Start the hub; it answers once its services, started one after the other, do."""
        home = hub_home(self.env)
        (home / "hub").mkdir(parents=True, exist_ok=True)
        explain_leftovers(ports=platform_ports(self.env),
                          pid_files=[home / "hub" / "jupyterhub.pid", home / "hub" / "proxy.pid"])
        log = open_private_log(self.log_path or home / "hub" / "jupyterhub.log")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(REPO / "jupyterhub_config.py")],
            cwd=home / "hub", env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._tree = ProcessTree(self._proc.pid).start()
        try:
            self._wait_until_up(timeout_s, log=self.log_path or home / "hub" / "jupyterhub.log")
        except BaseException:  # a failed start, or Ctrl-C / SIGTERM while starting: leave nothing behind
            self.stop()
            raise
        return self

    def _wait_until_up(self, timeout_s: float, *, log: Path) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise HubkitError("JupyterHub stopped while starting; see its log.", detail=str(log))
            try:
                if httpx.get(f"{self.url}/hub/health", timeout=2).status_code == 200 and \
                        httpx.get(f"{self.url}/services/hubkit/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise HubkitError(f"JupyterHub did not answer on {self.url} within {timeout_s:.0f} s.")

    def wait(self) -> int:
        assert self._proc is not None
        return self._proc.wait()

    def stop(self) -> list[int]:
        """Stop the hub and everything it started (proxy, services, servers, kernels, job workers)
        within 10 s; returns the pids that could not be stopped (none, normally)."""
        if self._proc is None or self._tree is None:
            return []
        left = self._tree.stop()
        self._proc.poll()
        self._tree = None
        if left:
            print(f"Could not stop process(es) {', '.join(map(str, left))}; stop them by hand.", file=sys.stderr)
        return left

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
