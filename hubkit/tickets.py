"""Download tickets: a link a browser can follow to one private download, for a few minutes.

A browser holds no token for the service, so a private model's files could
only be built inside the page's kernel and handed over whole, which cannot
work at real sizes. Instead the page asks the service (as its user) for a
ticket: the run, the one streaming route it opens, the user it stands for
and an expiry, signed with a key only the platform can read
(``HUBKIT_HOME/secrets``, 0600). The streaming routes accept it in place of
that user's token, for that route only; the access log never shows query
strings. A ticket cannot be widened: changing any part breaks the signature.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from pathlib import Path

from hubkit.config import Settings, load_settings
from hubkit.errors import PermissionDenied, ValidationError

TTL_S = 600
# the streaming routes a ticket may open, relative to /v1/runs/{id}/
ROUTE = re.compile(r"^(download/(adapter|merged|card)|exports/(gguf|gguf-adapter|ollama|ollama-adapter)/"
                   r"(f16|q8_0|q4_k_m))$")
_KEY_FILE = "download-tickets.key"


def _key(settings: Settings) -> bytes:
    """The signing key, made on first use; several service workers agree on whichever file won."""
    folder = settings.home / "secrets"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / _KEY_FILE
    if not path.exists():
        staging = folder / f".{_KEY_FILE}.{os.getpid()}"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
        try:
            os.link(staging, path)  # fails if another worker was first: theirs is kept
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    return Path(path).read_bytes()


def _sign(key: bytes, body: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode().rstrip("=")


def check_route(route: str) -> str:
    if not ROUTE.match(route):
        raise ValidationError(f"{route!r} is not a download of a model.", field="route")
    return route


def mint(*, run_id: int, route: str, viewer: str | None, settings: Settings | None = None,
         now: float | None = None) -> str:
    """A ticket for ``viewer`` (None: the platform, "": a visitor) to stream ``route`` of ``run_id``."""
    settings = settings or load_settings()
    claims = [int(run_id), check_route(route), viewer, int((time.time() if now is None else now) + TTL_S)]
    body = json.dumps(claims, separators=(",", ":")).encode()
    encoded = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"{encoded}.{_sign(_key(settings), body)}"


def redeem(ticket: str, *, run_id: int, route: str, settings: Settings | None = None,
           now: float | None = None) -> str | None:
    """The viewer a valid ticket for exactly this run and route stands for; refused otherwise."""
    settings = settings or load_settings()
    refused = PermissionDenied("This download link is not valid any more; open the model's page and ask "
                               "for a new one.")
    encoded, _, signature = ticket.partition(".")
    try:
        body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (ValueError, TypeError):
        raise refused from None
    if not hmac.compare_digest(_sign(_key(settings), body), signature):
        raise refused
    ticket_run, ticket_route, viewer, expires = json.loads(body)
    if ticket_run != run_id or ticket_route != route or expires < (time.time() if now is None else now):
        raise refused
    return viewer
