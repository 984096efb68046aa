"""Every case of the bad-input corpus gives the promised answer."""
from __future__ import annotations

import pytest

from hubkit.data import DataLimits, content_hash, prepare_upload
from hubkit.errors import DatasetRejected, DataValidationError, UnsafePath
from tests.data.corpus import CASES, UNSAFE_NAMES, Case, jsonl


def _run(case: Case):
    options = dict(case.options)
    options.setdefault("limits", DataLimits())
    return prepare_upload(data=case.data, filename=case.filename, **options)


def test_corpus_is_broad() -> None:
    assert len(CASES) + 1 >= 25
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [c for c in CASES if c.expect == "reject"], ids=lambda c: c.id)
def test_rejected_with_file_row_field_and_plain_message(case: Case) -> None:
    with pytest.raises(DataValidationError) as info:
        _run(case)
    err = info.value
    assert isinstance(err, DatasetRejected) and err.problems
    for phrase in case.says:
        assert phrase in err.message, err.message
    assert err.file == case.filename
    assert err.row == case.row
    if case.field is not None:
        assert err.field == case.field
    assert "Traceback" not in err.message and "KeyError" not in err.message


@pytest.mark.parametrize("case", [c for c in CASES if c.expect == "accept"], ids=lambda c: c.id)
def test_accepted(case: Case) -> None:
    prepared = _run(case)
    assert len(prepared) > 0
    assert case.check is not None
    case.check(prepared)


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_path_traversal_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafePath):
        prepare_upload(data=b"text\nhello\n", filename=name, limits=DataLimits())


def test_upload_is_addressed_by_content_not_by_name() -> None:
    data = jsonl({"text": "hello"})
    a = prepare_upload(data=data, filename="mine.jsonl", limits=DataLimits())
    b = prepare_upload(data=data, filename="other name.jsonl", limits=DataLimits())
    assert a.source.content_hash == b.source.content_hash == content_hash(data)
    assert a.source.name == "mine.jsonl"


def test_several_problems_reported_together_in_row_order() -> None:
    rows = [{"question": "q", "answer": "a"}] * 30
    rows[4] = {"question": "q"}
    rows[9] = {"question": "", "answer": "a"}
    data = jsonl(*rows)[:-1] + b"\n{broken\n"
    with pytest.raises(DatasetRejected) as info:
        prepare_upload(data=data, filename="m.jsonl", limits=DataLimits(max_problems=2))
    err = info.value
    assert err.total == 3
    assert [p.row for p in err.problems] == [5, 10]
    assert [p.field for p in err.problems] == ["answer", "question"]
    assert err.message.endswith("(2 more problems in this file.)")


def test_problems_beyond_the_limit_are_counted() -> None:
    data = jsonl(*({"text": ""} for _ in range(50)))
    with pytest.raises(DatasetRejected) as info:
        prepare_upload(data=data, filename="e.jsonl", limits=DataLimits(max_problems=5))
    assert len(info.value.problems) == 5 and info.value.total == 50


def test_limits_come_from_settings(tmp_path) -> None:
    from hubkit.config import load_settings

    settings = load_settings(home=tmp_path, max_upload_bytes=50, max_dataset_rows=10)
    with pytest.raises(DatasetRejected, match="the limit is 50 bytes"):
        prepare_upload(data=jsonl(*({"text": "x" * 20} for _ in range(3))), filename="a.jsonl",
                       settings=settings)
    small = load_settings(home=tmp_path, max_dataset_rows=2)
    with pytest.raises(DatasetRejected, match="more than 2 rows"):
        prepare_upload(data=b"a\nb\nc\n", filename="a.txt", settings=small)
