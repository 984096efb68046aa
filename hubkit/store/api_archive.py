"""``ApiArchive``: the archive through the hubkit service, for code that runs as a user.

User kernels and jobs that run as their owner hold no write access to the
platform's archive; they store adapters and checkpoints, and read datasets
and parent adapters, through ``/v1/archive`` with their own token. The hash
is checked again on every read, as the file archive does.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import BinaryIO

import httpx

from hubkit import errors
from hubkit.archive import Archive
from hubkit.store.api import raise_for_error

_CHUNK = 1 << 20


class ApiArchive(Archive):
    """The :class:`Archive` contract over the service at ``url`` (the folder helpers are inherited)."""

    def __init__(self, url: str, *, token: str | None = None, timeout_s: float = 600.0,
                 namespace: str | None = None) -> None:
        token = token or os.environ.get("JUPYTERHUB_API_TOKEN")
        if not token:
            raise errors.ConfigError("The archive through the service needs a token (JUPYTERHUB_API_TOKEN).")
        self._client = httpx.Client(base_url=url.rstrip("/") + "/v1", timeout=timeout_s,
                                    headers={"Authorization": f"token {token}"})
        self._objects = f"/archive/{namespace}" if namespace else "/archive"
        self._read_only = namespace is not None  # executed notebooks are archived by the platform only

    def put_stream(self, stream: BinaryIO) -> str:
        if self._read_only:
            raise errors.PermissionDenied("Only the platform archives executed notebooks.")

        def body() -> Iterator[bytes]:
            while chunk := stream.read(_CHUNK):
                yield chunk

        response = self._client.put("/archive", content=body(), headers={"Content-Type": "application/octet-stream"})
        raise_for_error(response)
        return str(response.json()["digest"])

    def exists(self, digest: str) -> bool:
        self._path(digest)
        with self._client.stream("GET", f"{self._objects}/{digest}") as response:
            if response.status_code == 404:
                return False
            raise_for_error(response)
            return True

    def iter_bytes(self, digest: str) -> Iterator[bytes]:
        self._path(digest)
        check = hashlib.sha256()
        pending: bytes | None = None
        with self._client.stream("GET", f"{self._objects}/{digest}") as response:
            if not response.is_success:
                response.read()
                raise_for_error(response)
            for chunk in response.iter_bytes(_CHUNK):
                check.update(chunk)
                if pending is not None:
                    yield pending
                pending = chunk
        if check.hexdigest() != digest:
            raise errors.ArchiveIntegrityError("A stored file arrived damaged and cannot be used.",
                                               detail=f"archive object {digest} hashes to {check.hexdigest()}")
        if pending is not None:
            yield pending

    def _path(self, digest: str) -> str:
        if len(digest or "") != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise errors.UnsafePath(f"{digest!r} is not a content hash.")
        return digest
