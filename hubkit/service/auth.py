"""Who is calling: JupyterHub tokens in, an :class:`Identity` out.

The service trusts nothing but the hub. A token from the ``Authorization``
header (``token <t>`` or ``Bearer <t>``) is checked by asking the hub's REST API
who owns it (``GET {hub_api_url}/user``, as ``jupyterhub.services.auth.HubAuth``
does); answers are cached briefly so a training loop posting points does not
hit the hub for every request. :class:`StaticTokenAuthenticator` exists for the
test suite and for ``make demo`` without a hub; it is never the default when
``JUPYTERHUB_API_URL`` is set.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from hubkit.errors import ConfigError

Kind = Literal["user", "platform", "anonymous"]

# JupyterHub group → hubkit role; the first match wins (admins first).
GROUP_ROLES: tuple[tuple[str, str], ...] = (
    ("admins", "admin"),
    ("researchers", "researcher"),
    ("educators", "educator"),
    ("developers", "developer"),
    ("casual", "casual"),
)


@dataclass(frozen=True)
class Identity:
    """The owner of a token. ``platform`` identities are the hub's own workers."""

    kind: Kind
    name: str = ""
    role: str = "casual"
    job: int | None = None
    """Set for a job token: the one job its holder (the job's code and, on Ray, its worker) may reach."""

    @property
    def is_platform(self) -> bool:
        return self.kind == "platform"


ANONYMOUS_IDENTITY = Identity(kind="anonymous")


def role_from_hub(model: Mapping[str, Any]) -> str:
    """A hub user model (``admin`` flag, ``groups``) → the hubkit role."""
    if model.get("admin"):
        return "admin"
    groups = set(model.get("groups") or ())
    for group, role in GROUP_ROLES:
        if group in groups:
            return role
    return "casual"


def parse_authorization(header: str | None) -> str | None:
    """The token in ``token <t>`` / ``Bearer <t>``; ``None`` when there is no header."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer") or not token.strip():
        return ""  # present but malformed: refused like a forged token
    return token.strip()


class Authenticator(ABC):
    """Maps a token to an :class:`Identity`, or ``None`` when the token is not valid."""

    @abstractmethod
    async def identify(self, token: str) -> Identity | None: ...


class StaticTokenAuthenticator(Authenticator):
    """A fixed token table: for tests and for ``make demo`` when no hub runs."""

    def __init__(self, tokens: Mapping[str, Identity]) -> None:
        self._tokens = {_digest(t): ident for t, ident in tokens.items()}

    async def identify(self, token: str) -> Identity | None:
        return self._tokens.get(_digest(token))


class JupyterHubAuthenticator(Authenticator):
    """Asks the hub who owns a token; caches positive answers for ``cache_s`` seconds.

    Services named in ``platform_services`` are the platform (they may write
    evaluations and act for users); every other service token is refused.
    """

    def __init__(self, *, api_url: str, platform_services: Iterable[str] = (), cache_s: float = 30.0,
                 timeout_s: float = 10.0) -> None:
        if not api_url:
            raise ConfigError("The hub API URL is not set (JUPYTERHUB_API_URL).")
        self.api_url = api_url.rstrip("/")
        self.platform_services = frozenset(platform_services)
        self.cache_s = cache_s
        self._timeout = timeout_s
        self._cache: dict[str, tuple[float, Identity]] = {}
        self._lock = threading.Lock()

    async def identify(self, token: str) -> Identity | None:
        key = _digest(token)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            response = await client.get(f"{self.api_url}/user", headers={"Authorization": f"token {token}"})
        if response.status_code in (401, 403, 404):
            return None
        response.raise_for_status()
        identity = self._identity(response.json())
        if identity is not None:
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key] = (now + self.cache_s, identity)
        return identity

    def _identity(self, model: Mapping[str, Any]) -> Identity | None:
        name = str(model.get("name") or "")
        if not name:
            return None
        if model.get("kind") == "service":
            return Identity(kind="platform", name=name, role="admin") if name in self.platform_services else None
        return Identity(kind="user", name=name, role=role_from_hub(model))


def _digest(token: str) -> str:
    # tokens are never kept in memory as given, only their hash
    return hashlib.sha256(token.encode()).hexdigest()


def default_authenticator() -> Authenticator:
    """The hub when ``JUPYTERHUB_API_URL`` is set; else the demo token table from the environment."""
    api_url = os.environ.get("JUPYTERHUB_API_URL", "")
    platform = [s for s in os.environ.get("HUBKIT_PLATFORM_SERVICES", "hubkit-platform").split(",") if s]
    if api_url:
        return JupyterHubAuthenticator(api_url=api_url, platform_services=platform)
    demo = os.environ.get("HUBKIT_DEMO_TOKENS", "")
    if not demo:
        raise ConfigError(
            "The hubkit service needs a hub to check tokens: set JUPYTERHUB_API_URL "
            "(done for you when JupyterHub starts the service).",
        )
    return StaticTokenAuthenticator(parse_token_table(demo))


def parse_token_table(text: str) -> dict[str, Identity]:
    """``token=name:role,...``; the role ``platform`` makes a platform token."""
    table: dict[str, Identity] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        token, _, who = entry.partition("=")
        name, _, role = who.partition(":")
        if not token or not name:
            raise ConfigError(f"HUBKIT_DEMO_TOKENS entry {entry.split('=')[0][:4]}… must look like token=name:role.")
        role = role or "casual"
        table[token] = Identity(kind="platform", name=name, role="admin") if role == "platform" \
            else Identity(kind="user", name=name, role=role)
    return table
