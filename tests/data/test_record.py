"""A prepared upload goes into the archive and the run database as is."""
from __future__ import annotations

from hubkit.archive import Archive
from hubkit.data import prepare_upload
from hubkit.store import LocalStore
from tests.data.corpus import jsonl, qa


def test_prepared_dataset_registers_with_the_store_and_archive(settings) -> None:
    data = jsonl(*qa(5), *qa(1))
    prepared = prepare_upload(data=data, filename="math.jsonl",
                              settings=settings)
    archive_hash = Archive(settings.archive_root).put_bytes(data)
    assert archive_hash == prepared.source.content_hash

    store = LocalStore(settings.database_url)
    record = store.register_dataset(owner=None, **prepared.record_fields())
    assert record.fingerprint == prepared.fingerprint
    assert record.n_rows == 6 and record.format == "instruction"
    assert store.dataset_item_hashes(record.id) == set(prepared.item_hashes())
    again = store.register_dataset(owner=None, **prepared.record_fields())
    assert again.id == record.id
