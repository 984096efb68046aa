"""Content-addressed archive: hashes verified on every read, no path escapes."""
from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from hubkit.archive import Archive, safe_join
from hubkit.errors import ArchiveIntegrityError, NotFound, UnsafePath


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(str(tmp_path / "archive"))


def test_bytes_are_stored_under_their_hash_once(archive, tmp_path):
    digest = archive.put_bytes(b"hello")
    assert digest == hashlib.sha256(b"hello").hexdigest()
    assert archive.put_bytes(b"hello") == digest
    assert archive.get_bytes(digest) == b"hello"
    assert len(list((tmp_path / "archive").rglob(digest))) == 1
    assert not list((tmp_path / "archive" / "tmp").iterdir())


def test_a_tampered_file_is_an_error_not_data(archive, tmp_path):
    digest = archive.put_bytes(b"adapter weights")
    stored = next((tmp_path / "archive").rglob(digest))
    stored.write_bytes(b"adapter weightz")
    with pytest.raises(ArchiveIntegrityError):
        archive.get_bytes(digest)
    with pytest.raises(ArchiveIntegrityError):
        archive.get_to_file(digest, tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()


def test_missing_and_malformed_hashes(archive):
    with pytest.raises(NotFound):
        archive.get_bytes("0" * 64)
    for bad in ["../../etc/passwd", "/etc/passwd", "ab/../cd", "A" * 64, ""]:
        with pytest.raises(UnsafePath):
            archive.get_bytes(bad)


def test_folders_round_trip_deterministically(archive, tmp_path):
    src = tmp_path / "adapter"
    (src / "sub").mkdir(parents=True)
    (src / "adapter_model.safetensors").write_bytes(b"\x00\x01")
    (src / "sub" / "README.md").write_text("card")
    first = archive.put_dir(src)
    (src / "README.md").touch()
    (src / "README.md").unlink()
    assert archive.put_dir(src) == first
    out = archive.get_dir(first, tmp_path / "restored")
    assert (out / "sub" / "README.md").read_text() == "card"
    assert (out / "adapter_model.safetensors").read_bytes() == b"\x00\x01"


def test_a_tar_with_escaping_members_is_refused(archive, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    digest = archive.put_bytes(buf.getvalue())
    with pytest.raises(UnsafePath):
        archive.get_dir(digest, tmp_path / "dest")
    assert not (tmp_path / "escape.txt").exists()


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../x", "..", ""])
def test_safe_join_refuses_escapes(tmp_path, name):
    with pytest.raises(UnsafePath):
        safe_join(tmp_path, name)


def test_safe_join_allows_plain_names(tmp_path):
    assert safe_join(tmp_path, "data.jsonl") == (tmp_path / "data.jsonl").resolve()
