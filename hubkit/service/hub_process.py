"""Start the whole hub (JupyterHub + proxy + services), wait until it answers, sign users up.

``hubkit serve hub`` uses this, and so does the end-to-end test; sign-up and
login go through NativeAuthenticator's own forms, exactly as a browser would.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from hubkit.errors import ConfigError, HubkitError
from hubkit.service.hub_config import REPO, hub_home, public_url

NODE_BIN = REPO / ".venv" / "node" / "node_modules" / ".bin"
_XSRF = re.compile(r'name="_xsrf" value="([^"]+)"')


def hub_environment(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the proxy and the venv's tools on PATH."""
    env = {**os.environ, **(overrides or {})}
    extra = [str(NODE_BIN), str(Path(sys.executable).parent)]
    env["PATH"] = os.pathsep.join([*extra, env.get("PATH", "")])
    if shutil.which("configurable-http-proxy", path=env["PATH"]) is None:
        raise ConfigError("configurable-http-proxy is not installed; `make demo` installs it "
                          f"(npm install --prefix {NODE_BIN.parents[1]} configurable-http-proxy).")
    return env


def admin_password(home: Path) -> str:
    """HUBKIT_ADMIN_PASSWORD, else one generated once and kept (owner-only) under the hub's folder."""
    given = os.environ.get("HUBKIT_ADMIN_PASSWORD")
    if given:
        return given
    path = home / "hub" / "admin-password"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password)
    return password


def _form(client: httpx.Client, path: str, fields: dict[str, str]) -> httpx.Response:
    page = client.get(path)
    match = _XSRF.search(page.text)
    data = {**fields, **({"_xsrf": match.group(1)} if match else {})}
    return client.post(path, data=data)


def sign_up(base_url: str, username: str, password: str) -> None:
    """Create an account through NativeAuthenticator's sign-up form (an existing one is left as it is)."""
    with httpx.Client(base_url=base_url, follow_redirects=True, timeout=30) as client:
        r = _form(client, "/hub/signup", {"username": username, "signup_password": password,
                                           "signup_password_confirmation": password, "email": ""})
        if r.status_code >= 400:
            raise HubkitError(f"Signing up {username!r} failed ({r.status_code}).", detail=r.text[:500])


def log_in(base_url: str, username: str, password: str) -> httpx.Client:
    """A client holding the hub's login cookie for ``username`` (close it when done)."""
    client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
    r = _form(client, "/hub/login", {"username": username, "password": password})
    if r.status_code not in (302, 303) or "jupyterhub-session-id" not in client.cookies:
        client.close()
        raise HubkitError(f"Logging in as {username!r} failed.", detail=f"{r.status_code}: {r.text[:300]}")
    return client


@dataclass
class HubProcess:
    """``with HubProcess(env) as hub:`` — JupyterHub running until the block ends."""

    env: dict[str, str]
    log_path: Path | None = None
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return public_url(self.env)

    def start(self, timeout_s: float = 120.0) -> Self:
        home = hub_home(self.env)
        (home / "hub").mkdir(parents=True, exist_ok=True)
        log = open(self.log_path or home / "hub" / "jupyterhub.log", "ab")  # noqa: SIM115 - lives with the process
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(REPO / "jupyterhub_config.py")],
            cwd=home / "hub", env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise HubkitError("JupyterHub stopped while starting; see its log.",
                                  detail=str(self.log_path or home / "hub" / "jupyterhub.log"))
            try:
                if httpx.get(f"{self.url}/hub/health", timeout=2).status_code == 200 and \
                        httpx.get(f"{self.url}/services/hubkit/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise HubkitError(f"JupyterHub did not answer on {self.url} within {timeout_s:.0f} s.")

    def wait(self) -> int:
        assert self._proc is not None
        return self._proc.wait()

    def stop(self) -> None:
        """Stop the hub and everything it started (its process group)."""
        if self._proc is None or self._proc.poll() is not None:
            return
        os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
