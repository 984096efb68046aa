"""The caller of one request, and the rules that follow from who it is.

Two kinds of callers reach the store through the service:

- **users** (a JupyterHub user's token, from their kernel or browser): untrusted.
  The service fills every ``owner`` / ``user`` / ``actor`` / ``viewer`` argument
  with the user's own name, marks what they write ``executed_by="user"``, and
  checks ownership before any change to a run.
- **the platform** (a token of a hub service listed as platform): trusted, with
  exactly the semantics of a ``LocalStore`` call. It may name the user a call is
  made for in the ``X-Hubkit-Act-As`` header; that fills the store's
  ``actor`` / ``viewer`` argument. No other caller may use that header.

Anonymous visitors (no ``Authorization`` header) may only read public objects.
"""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader

from hubkit.errors import PermissionDenied, ValidationError
from hubkit.service.auth import ANONYMOUS_IDENTITY, Identity, parse_authorization
from hubkit.service.errors import Unauthenticated
from hubkit.store import ANONYMOUS

ACT_AS_HEADER = "X-Hubkit-Act-As"
_token_header = APIKeyHeader(name="Authorization", auto_error=False,
                             description="`token <JupyterHub token>` or `Bearer <JupyterHub token>`.")


@dataclass(frozen=True)
class Caller:
    identity: Identity
    act_as: str | None = None

    @property
    def trusted(self) -> bool:
        return self.identity.is_platform

    @property
    def job(self) -> int | None:
        """The one job a job token reaches (None for every other caller)."""
        return self.identity.job

    @property
    def anonymous(self) -> bool:
        return self.identity.kind == "anonymous"

    @property
    def username(self) -> str | None:
        """The user the call is made for (``None``: the platform itself or a visitor)."""
        if self.trusted:
            return self.act_as
        return self.identity.name or None

    @property
    def viewer(self) -> str | None:
        """The store's ``viewer``: None sees everything, "" public only, else public + own."""
        return ANONYMOUS if self.anonymous else self.username

    @property
    def actor(self) -> str | None:
        return self.username

    @property
    def executed_by(self) -> str:
        return "platform" if self.trusted else "user"

    def require_login(self) -> None:
        if self.anonymous:
            raise Unauthenticated("You need to log in to do this.")

    def require_platform(self, what: str) -> None:
        self.require_login()
        if not self.trusted:
            raise PermissionDenied(f"Only the platform can {what}.")

    def own_name(self, claimed: str | None, *, what: str = "owner") -> str:
        """The name to record as owner: the platform's choice, else the caller's own name."""
        self.require_login()
        if self.trusted:
            if not claimed:
                raise ValidationError(f"The platform must say who the {what} is.", field=what)
            return claimed
        if claimed not in (None, self.identity.name):
            raise PermissionDenied(f"You can only act as yourself, not as {claimed!r}.")
        return self.identity.name


async def current_caller(request: Request, authorization: str | None = Depends(_token_header),
                         act_as: str | None = Header(default=None, alias=ACT_AS_HEADER,
                                                     description="Platform tokens only: the user a call is made for.")) -> Caller:
    token = parse_authorization(authorization)
    if token is None:
        identity = ANONYMOUS_IDENTITY
    else:
        identity = await request.app.state.auth.identify(token) if token else None
        if identity is None:
            raise Unauthenticated("Your login has expired or the token is not valid; log in again.")
        if identity.kind == "user":
            await request.app.state.users.ensure(identity)
    if act_as is not None:
        if identity.is_platform:
            if not act_as:
                raise ValidationError(f"{ACT_AS_HEADER} must name a user.", field=ACT_AS_HEADER)
        elif identity.kind == "anonymous" or act_as != identity.name:
            raise PermissionDenied("Only the platform can act for another user.")
        else:
            act_as = None
    return Caller(identity=identity, act_as=act_as)
