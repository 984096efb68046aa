"""Content-addressed storage: every artefact is stored under its sha256.

Works on any fsspec URL (a local folder by default). Names given by users are
never part of a path; the hash is checked again on every read, so a tampered
or truncated file is an error, never silently served. Writes go to a temporary
name first and are renamed into place.

Two namespaces: uploaded datasets and model artefacts live at the root;
executed notebooks live under ``notebooks/`` (:data:`NOTEBOOKS`). A job's
``archive:<sha256>`` reference is looked up only among notebooks, so uploaded
data can never be run as code, whatever its bytes are.
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import fsspec

from hubkit.errors import ArchiveIntegrityError, NotFound, UnsafePath

_HEX = re.compile(r"^[0-9a-f]{64}$")
NOTEBOOKS = "notebooks"
NAMESPACES = (NOTEBOOKS,)
_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    def __init__(self, root: str) -> None:
        self.fs, self.root = fsspec.core.url_to_fs(root)
        self.root = self.root.rstrip("/")
        self.fs.makedirs(self.root, exist_ok=True)

    def _path(self, digest: str) -> str:
        if not _HEX.match(digest or ""):
            raise UnsafePath(f"{digest!r} is not a content hash.")
        return f"{self.root}/{digest[:2]}/{digest}"

    def put_bytes(self, data: bytes) -> str:
        return self.put_stream(io.BytesIO(data))

    def put_stream(self, stream: BinaryIO) -> str:
        """Store a stream; returns its sha256. Storing the same bytes twice is a no-op."""
        digest = hashlib.sha256()
        tmp = f"{self.root}/tmp/{secrets.token_hex(8)}"
        self.fs.makedirs(f"{self.root}/tmp", exist_ok=True)
        with self.fs.open(tmp, "wb") as out:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        hexdigest = digest.hexdigest()
        final = self._path(hexdigest)
        if self.fs.exists(final):
            self.fs.rm(tmp)
        else:
            self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
            self.fs.mv(tmp, final)
        return hexdigest

    def put_file(self, path: Path) -> str:
        with open(path, "rb") as fh:
            return self.put_stream(fh)

    def exists(self, digest: str) -> bool:
        return self.fs.exists(self._path(digest))

    def size(self, digest: str) -> int:
        """Bytes stored under ``digest`` (NotFound when nothing is)."""
        if not self.exists(digest):
            raise NotFound(f"Nothing is archived under {digest}.")
        return int(self.fs.size(self._path(digest)))

    def get_bytes(self, digest: str) -> bytes:
        return b"".join(self.iter_bytes(digest))

    def iter_bytes(self, digest: str) -> Iterator[bytes]:
        """Stream the content; the hash is verified before the last chunk is handed out."""
        path = self._path(digest)
        if not self.fs.exists(path):
            raise NotFound(f"Nothing is archived under {digest}.")
        check = hashlib.sha256()
        pending: bytes | None = None
        with self.fs.open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                check.update(chunk)
                if pending is not None:
                    yield pending
                pending = chunk
        if check.hexdigest() != digest:
            raise ArchiveIntegrityError(
                "A stored file is damaged and cannot be used.",
                detail=f"archive object {digest} hashes to {check.hexdigest()}",
            )
        if pending is not None:
            yield pending

    def get_to_file(self, digest: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + f".{secrets.token_hex(4)}.part")
        try:
            with open(tmp, "wb") as out:
                out.writelines(self.iter_bytes(digest))
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    # --- folders (adapters, merged models) -------------------------------------
    def put_dir(self, folder: Path) -> str:
        """Archive a folder as a deterministic tar (sorted names, zeroed times and owners)."""
        with tempfile.TemporaryFile() as buf:
            with tarfile.open(fileobj=buf, mode="w") as tar:
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    info = tar.gettarinfo(str(path), arcname=str(path.relative_to(folder)))
                    info.mtime = 0
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    info.mode = 0o644
                    with open(path, "rb") as fh:
                        tar.addfile(info, fh)
            buf.seek(0)
            return self.put_stream(buf)

    def get_dir(self, digest: str, dest: Path) -> Path:
        """Unpack an archived folder; members that would leave ``dest`` are refused.

        The tar is streamed to a temporary file (hash checked on the way) and
        unpacked from there, so memory stays flat whatever the folder's size.
        """
        with tempfile.TemporaryFile() as buf:
            for chunk in self.iter_bytes(digest):
                buf.write(chunk)
            buf.seek(0)
            return self._unpack(buf, digest, dest)

    @staticmethod
    def _unpack(fileobj: BinaryIO, digest: str, dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        with tarfile.open(fileobj=fileobj, mode="r") as tar:
            for member in tar.getmembers():
                target = (root / member.name).resolve()
                if not member.isfile() or not target.is_relative_to(root):
                    raise UnsafePath(f"Archived folder {digest} holds an unsafe entry {member.name!r}.")
            tar.extractall(root, filter="data")
        return dest


def safe_join(root: Path, name: str) -> Path:
    """Join a name under ``root``, refusing anything that would escape it."""
    base = root.resolve()
    target = (base / name).resolve()
    if not target.is_relative_to(base) or target == base:
        raise UnsafePath(f"The name {name!r} is not allowed here.")
    return target


def open_archive(root: str | None = None, *, namespace: str | None = None) -> Archive:
    """The archive at ``root``; by default the configured one, or the service's for user code.

    Code that talks to the service (``HUBKIT_SERVICE_URL``) and names no archive of its own
    is user code: it reaches the platform's archive only through the service.
    ``namespace=NOTEBOOKS``: the executed notebooks.
    """
    from hubkit.config import load_settings

    if namespace is not None and namespace not in NAMESPACES:
        raise UnsafePath(f"{namespace!r} is not an archive namespace.")
    base = root
    if not base:
        settings = load_settings()
        if settings.service_url and not settings.archive_url:
            from hubkit.store.api_archive import ApiArchive

            return ApiArchive(settings.service_url, namespace=namespace)
        base = settings.archive_root
    return Archive(f"{base.rstrip('/')}/{namespace}" if namespace else base)
