"""Fingerprints, item hashes, stats, preview and the train/validation split."""
from __future__ import annotations

import csv
import io
import json

import pytest

from hubkit.data import DataLimits, item_hash, prepare_records, prepare_upload
from hubkit.errors import ValidationError
from tests.data.corpus import jsonl, parquet, qa

ROWS = qa(12) + [{"question": 'Say "hi",\nplease', "answer": "hi"}]


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _upload(data: bytes, name: str, **kw):
    return prepare_upload(data=data, filename=name, limits=DataLimits(), **kw)


def test_same_rows_give_same_fingerprint_in_every_file_format() -> None:
    prints = {
        _upload(_csv(ROWS), "d.csv").fingerprint,
        _upload(_csv(ROWS).replace(b"\n", b"\r\n"), "d.csv").fingerprint,
        _upload(jsonl(*ROWS), "d.jsonl").fingerprint,
        _upload(json.dumps(ROWS, indent=2).encode(), "d.json").fingerprint,
        _upload(parquet(ROWS), "d.parquet").fingerprint,
        prepare_records(records=ROWS, name="mem", limits=DataLimits()).fingerprint,
    }
    assert len(prints) == 1


def test_fingerprint_changes_with_content_order_and_format() -> None:
    def fp(rows) -> str:
        return prepare_records(records=rows, name="a", limits=DataLimits()).fingerprint

    base = fp(ROWS)
    changed = [dict(r) for r in ROWS]
    changed[3]["answer"] = "wrong"
    assert fp(changed) != base
    assert fp(ROWS[::-1]) != base
    assert fp([{"prompt": r["question"], "completion": r["answer"]} for r in ROWS]) != base
    assert len(base) == 64


def test_item_hashes_ignore_spacing_and_match_public_item_hash() -> None:
    prepared = prepare_records(records=[{"text": "a  b\n"}, {"text": "a b"}, {"text": "c"}],
                               name="x", limits=DataLimits())
    hashes = prepared.item_hashes()
    assert hashes[0] == hashes[1] != hashes[2]
    assert hashes[2] == item_hash({"text": "c"})
    assert prepared.stats.duplicates == 1


def test_preview_rows_are_plain_dicts() -> None:
    prepared = _upload(jsonl(*ROWS), "d.jsonl")
    rows = prepared.preview(3)
    assert len(rows) == 3 and all(type(r) is dict for r in rows)
    assert rows[0] == {"instruction": "What is 1 plus 1?", "input": "", "response": "2"}
    assert len(prepared.preview(100)) == len(ROWS)


def test_stats_without_tokenizer_count_words_and_histogram_covers_every_row() -> None:
    prepared = prepare_records(records=[{"text": "one"}, {"text": "one two three"},
                                        {"text": " ".join(["w"] * 40)}],
                               name="x", limits=DataLimits(), max_seq_len=10)
    stats = prepared.stats
    assert stats.unit == "words" and stats.tokens is None
    assert stats.words == 44 and stats.min_length == 1 and stats.max_length == 40
    assert sum(b.count for b in stats.histogram) == 3
    assert stats.histogram[0].low == 1 and stats.histogram[-1].high >= 40
    assert stats.truncation.rows_truncated == 1 and stats.truncation.units_lost == 30
    json.dumps(stats.to_dict())


def test_stats_with_tokenizer_count_tokens(plain_tokenizer) -> None:
    rows = [{"text": "Hello there"}, {"text": "The cat sits on the mat."}]
    prepared = prepare_records(records=rows, name="x", limits=DataLimits(),
                               tokenizer=plain_tokenizer)
    expected = [len(plain_tokenizer(r["text"] + "</s>")["input_ids"]) for r in rows]
    assert prepared.stats.unit == "tokens"
    assert prepared.stats.tokens == sum(expected)
    assert prepared.stats.max_length == max(expected)


def test_split_is_deterministic_disjoint_and_keeps_repeats_together() -> None:
    rows = [{"text": f"row {i}"} for i in range(100)] + [{"text": "row 7"}] * 5
    prepared = prepare_records(records=rows, name="x", limits=DataLimits())
    a = prepared.train_validation_split(validation_fraction=0.2, seed=1)
    b = prepared.train_validation_split(validation_fraction=0.2, seed=1)
    c = prepared.train_validation_split(validation_fraction=0.2, seed=2)
    assert a.train.to_list() == b.train.to_list()
    assert a.validation.to_list() == b.validation.to_list()
    assert a.validation.to_list() != c.validation.to_list()
    assert len(a.train) + len(a.validation) == len(rows)
    assert 19 <= len(a.validation) <= 26
    train_texts = {r["text"] for r in a.train}
    assert not train_texts & {r["text"] for r in a.validation}


def test_split_edges() -> None:
    prepared = prepare_records(records=[{"text": "a"}, {"text": "b"}], name="x",
                               limits=DataLimits())
    none = prepared.train_validation_split(validation_fraction=0.0, seed=0)
    assert len(none.validation) == 0 and len(none.train) == 2
    one = prepared.train_validation_split(validation_fraction=0.01, seed=0)
    assert len(one.validation) == 1 and len(one.train) == 1
    with pytest.raises(ValidationError):
        prepared.train_validation_split(validation_fraction=1.0, seed=0)


def test_record_fields_match_the_store_contract() -> None:
    data = jsonl(*ROWS)
    prepared = _upload(data, "math.jsonl")
    fields = prepared.record_fields()
    assert fields["fingerprint"] == prepared.fingerprint
    assert fields["format"] == "instruction" and fields["n_rows"] == len(ROWS)
    assert fields["archive_hash"] == prepared.source.content_hash
    assert fields["item_hashes"] == prepared.item_hashes()
    assert fields["stats"]["column_mapping"] == {"question": "instruction", "answer": "response"}
    json.dumps(fields)
