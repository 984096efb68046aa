"""Resolving a `DatasetRef` to a validated dataset that is recorded and archived.

Whatever the source (a stored dataset, a local file, a built-in example), the
run ends up linked to a `datasets` row whose archived bytes reproduce the
same fingerprint, so any run can be re-trained or resumed elsewhere.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubkit.archive import Archive
from hubkit.data import PreparedDataset, prepare_records, prepare_reference, prepare_upload
from hubkit.errors import ValidationError
from hubkit.store.base import Store
from hubkit.store.records import DatasetRecord
from hubkit.train.spec import DatasetRef

EXAMPLE_FORMAT = "instruction"
NORMALISED_JSONL = "normalised-jsonl"


@dataclass(frozen=True)
class TrainingData:
    prepared: PreparedDataset
    record: DatasetRecord

    @property
    def name(self) -> str:
        return self.record.name


def _jsonl(prepared: PreparedDataset) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in prepared.dataset.to_list()).encode()


def _register(prepared: PreparedDataset, *, store: Store, owner: str, archive: Archive,
              name: str | None, archive_hash: str | None) -> DatasetRecord:
    fields: dict[str, Any] = prepared.record_fields()
    if name:
        fields["name"] = name
    if archive_hash is None:
        # Rows built in memory (or a dataset folder) have no bytes of their own: archive the
        # normalised rows instead, and say so, so `from_stored` reads them back the same way.
        archive_hash = archive.put_bytes(_jsonl(prepared))
        fields["stats"] = {**fields["stats"], "archived_as": NORMALISED_JSONL}
    fields["archive_hash"] = archive_hash
    return store.register_dataset(owner=owner, **fields)


def from_stored(record: DatasetRecord, *, archive: Archive) -> PreparedDataset:
    """Reload a recorded dataset from its archived bytes and check it is still the same data."""
    if not record.archive_hash:
        raise ValidationError(f"The dataset {record.name!r} has no stored copy to train on.",
                              field="dataset.dataset_id")
    data = archive.get_bytes(record.archive_hash)
    stored_name = (record.source or "").partition(":")[2]
    if record.stats.get("archived_as") == NORMALISED_JSONL:
        prepared = prepare_upload(data=data, filename="rows.jsonl", format=record.format)
    else:
        prepared = prepare_upload(data=data, filename=Path(stored_name).name or "rows.jsonl",
                                  format=record.format,
                                  mapping=record.stats.get("column_mapping") or None)
    if prepared.fingerprint != record.fingerprint:
        raise ValidationError(f"The stored copy of dataset {record.name!r} no longer matches its "
                              "fingerprint.", field="dataset.dataset_id",
                              detail=f"{prepared.fingerprint} != {record.fingerprint}")
    return prepared


def _example_name(ref: DatasetRef, seed: int) -> str:
    return ref.name or f"example-{ref.example}-{ref.format or EXAMPLE_FORMAT}-{ref.example_rows}-seed{seed}"


def prepare(ref: DatasetRef, *, seed: int) -> PreparedDataset:
    """Read and validate a file or an example dataset (nothing is recorded)."""
    if ref.path is not None:
        return prepare_reference(ref=ref.path, format=ref.format, mapping=ref.columns or None)
    if ref.example is None:
        raise ValidationError("A stored dataset is read with from_stored.", field="dataset")
    from hubkit.microworld import example_dataset

    fmt = ref.format or EXAMPLE_FORMAT
    rows = example_dataset(ref.example, fmt=fmt, n=ref.example_rows, seed=seed)
    return prepare_records(records=rows, name=_example_name(ref, seed), format=fmt)


def resolve(ref: DatasetRef, *, store: Store, owner: str, archive: Archive, seed: int) -> TrainingData:
    """The validated dataset for ``ref``, registered (once) under ``owner``."""
    if ref.dataset_id is not None:
        record = store.get_dataset(ref.dataset_id)
        return TrainingData(from_stored(record, archive=archive), record)
    prepared = prepare(ref, seed=seed)
    if ref.path is not None:
        path = Path(ref.path).expanduser()
        stored = archive.put_file(path) if path.is_file() else None
        name = ref.name or path.name
    else:
        stored, name = None, _example_name(ref, seed)
    record = _register(prepared, store=store, owner=owner, archive=archive, name=name, archive_hash=stored)
    return TrainingData(prepared, record)
