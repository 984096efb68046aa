"""The archive through the service: what user code stores and reads instead of touching the files."""
from __future__ import annotations

import hashlib

import pytest

from hubkit.archive import Archive
from hubkit.errors import ArchiveIntegrityError, NotFound, UnsafePath
from hubkit.store import LocalStore
from hubkit.store.api_archive import ApiArchive


def test_a_user_stores_and_reads_back_through_the_service(service_for, store: LocalStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    svc = service_for(store)
    archive = ApiArchive(svc.url, token=svc.tokens["alice"])
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x00\x01" * 100)
    digest = archive.put_dir(folder)
    platform = Archive(svc.settings.archive_root)
    assert platform.exists(digest)  # stored in the platform's archive
    assert (archive.get_dir(digest, tmp_path / "back") / "weights.bin").read_bytes() == b"\x00\x01" * 100
    assert archive.exists(digest) and not archive.exists("0" * 64)
    with pytest.raises(NotFound):
        archive.get_bytes("0" * 64)
    with pytest.raises(UnsafePath):
        archive.get_bytes("../hubkit.db")


def test_visitors_oversized_bodies_and_damaged_objects_are_refused(service_for, store: LocalStore) -> None:  # type: ignore[no-untyped-def]
    svc = service_for(store, max_artifact_bytes=1000)
    visitor = svc.http()
    assert visitor.put("/v1/archive", content=b"x").status_code == 401
    assert visitor.get("/v1/archive/" + "0" * 64).status_code == 401
    alice = svc.http("alice")
    assert alice.put("/v1/archive", content=b"x" * 1001).status_code == 413
    assert alice.get("/v1/archive/not-a-hash").status_code == 422
    digest = ApiArchive(svc.url, token=svc.tokens["alice"]).put_bytes(b"good bytes")
    assert digest == hashlib.sha256(b"good bytes").hexdigest()
    path = Archive(svc.settings.archive_root)
    with open(f"{path.root}/{digest[:2]}/{digest}", "wb") as fh:
        fh.write(b"bad bytes!")
    with pytest.raises(ArchiveIntegrityError):
        ApiArchive(svc.url, token=svc.tokens["alice"]).get_bytes(digest)
