"""References: local files, saved dataset folders, Hugging Face ids (offline)."""
from __future__ import annotations

import time
from pathlib import Path

import datasets
import pytest

from hubkit.data import DataLimits, prepare_reference
from hubkit.errors import DatasetRejected, NotFound
from tests.data.corpus import jsonl, qa


def test_local_file(tmp_path: Path) -> None:
    path = tmp_path / "math.jsonl"
    path.write_bytes(jsonl(*qa(4)))
    prepared = prepare_reference(ref=str(path), limits=DataLimits())
    assert prepared.format == "instruction" and len(prepared) == 4
    assert prepared.source.kind == "path" and prepared.source.content_hash


def test_local_file_errors_name_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "a"}\n{"text": ""}\n')
    with pytest.raises(DatasetRejected) as info:
        prepare_reference(ref=str(path), limits=DataLimits())
    assert info.value.file == str(path) and info.value.row == 2


def test_saved_dataset_folder(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    datasets.DatasetDict({
        "train": datasets.Dataset.from_list(qa(3)),
        "test": datasets.Dataset.from_list(qa(2)),
    }).save_to_disk(str(folder))
    assert len(prepare_reference(ref=str(folder), limits=DataLimits())) == 3
    assert len(prepare_reference(ref=str(folder), split="test", limits=DataLimits())) == 2
    with pytest.raises(NotFound, match="no split 'dev'"):
        prepare_reference(ref=str(folder), split="dev", limits=DataLimits())


def test_plain_folder_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetRejected, match="is a folder"):
        prepare_reference(ref=str(tmp_path), limits=DataLimits())
    with pytest.raises(NotFound, match="no file or folder"):
        prepare_reference(ref=str(tmp_path / "nope.csv"), limits=DataLimits())


def test_hub_id_not_cached_is_not_found_quickly(tmp_path, monkeypatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
    monkeypatch.setattr(datasets, "load_dataset", _must_not_be_called)
    started = time.monotonic()
    with pytest.raises(NotFound, match="not on this machine"):
        prepare_reference(ref="openai/gsm8k", limits=DataLimits())
    with pytest.raises(NotFound):
        prepare_reference(ref="gsm8k", limits=DataLimits())
    assert time.monotonic() - started < 5


def _must_not_be_called(*args, **kwargs):
    raise AssertionError("load_dataset was called for a dataset that is not cached")


def test_hub_id_offline_with_downloads_allowed_still_fails_cleanly() -> None:
    assert datasets.config.HF_HUB_OFFLINE
    with pytest.raises(NotFound):
        prepare_reference(ref="someone/not-here", limits=DataLimits(), allow_download=True)


def test_row_limit_applies_to_references(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    datasets.Dataset.from_list([{"text": str(i)} for i in range(10)]).save_to_disk(str(folder))
    with pytest.raises(DatasetRejected, match="the limit is 5"):
        prepare_reference(ref=str(folder), limits=DataLimits(max_rows=5))
