"""A checkpoint counts only when its marker, written last, vouches for every file."""
from __future__ import annotations

from pathlib import Path

import pytest

from hubkit.archive import Archive
from hubkit.errors import TrainingError
from hubkit.train.checkpoints import (
    ArchivedCheckpoint,
    is_complete,
    latest_archived,
    mark_complete,
    restore,
)


def _checkpoint(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_model.safetensors").write_bytes(b"x" * 100)
    (folder / "optimizer.pt").write_bytes(b"y" * 50)
    return folder


def test_unmarked_or_damaged_checkpoints_are_incomplete(tmp_path: Path) -> None:
    folder = _checkpoint(tmp_path / "checkpoint-10")
    assert not is_complete(folder)  # died before the marker
    mark_complete(folder, step=10)
    assert is_complete(folder)
    (folder / "optimizer.pt").write_bytes(b"y" * 10)  # truncated after the fact
    assert not is_complete(folder)
    (folder / "optimizer.pt").unlink()
    assert not is_complete(folder)


def test_latest_archived_takes_the_highest_step() -> None:
    assert latest_archived({"adapter": "a"}) is None
    found = latest_archived({"checkpoint-5": "a" * 64, "checkpoint-40": "b" * 64, "checkpoint-9": "c" * 64})
    assert found == ArchivedCheckpoint(40, "b" * 64)


def test_restore_refuses_an_archived_folder_without_marker(tmp_path: Path) -> None:
    archive = Archive(str(tmp_path / "archive"))
    folder = _checkpoint(tmp_path / "checkpoint-3")
    digest = archive.put_dir(folder)
    with pytest.raises(TrainingError, match="incomplete"):
        restore(ArchivedCheckpoint(3, digest), archive=archive, dest=tmp_path / "a")
    mark_complete(folder, step=3)
    good = restore(ArchivedCheckpoint(3, archive.put_dir(folder)), archive=archive, dest=tmp_path / "b")
    assert (good / "optimizer.pt").read_bytes() == b"y" * 50
