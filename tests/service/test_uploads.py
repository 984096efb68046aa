"""Dataset uploads: validated before anything is stored, size-limited, names never paths."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubkit.errors import UnsafePath, ValidationError

ROWS = [{"instruction": f"What is {i} plus {i}?", "response": str(2 * i)} for i in range(1, 30)]
GOOD = "\n".join(json.dumps(r) for r in ROWS).encode()


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _upload(svc, who="alice", data=GOOD, filename="sums.jsonl", **params):
    return svc.http(who).put("/v1/datasets/upload", content=data, params={"filename": filename, **params},
                             headers={"Content-Type": "application/octet-stream"})


def test_a_valid_upload_is_archived_by_hash_and_recorded(svc):
    r = _upload(svc, name="My sums")
    assert r.status_code == 201, r.text
    body = r.json()
    record = svc.local.get_dataset(body["dataset"]["id"])
    assert record.name == "My sums" and record.n_rows == len(ROWS) and record.format == "instruction"
    assert record.archive_hash == body["content_hash"] and record.owner_id == svc.local.get_user("alice").id
    stored = _files(Path(svc.settings.archive_root))
    assert [p.name for p in stored] == [record.archive_hash]
    assert stored[0].read_bytes() == GOOD
    assert body["preview"][0]["instruction"] == "What is 1 plus 1?"
    assert len(svc.local.dataset_item_hashes(record.id)) == len(ROWS)


def test_api_store_uploads_too(svc):
    record = svc.api_store("bob").upload_dataset(data=GOOD, filename="sums.jsonl")
    assert record.owner_id == svc.local.get_user("bob").id


def test_a_broken_file_names_the_row_and_nothing_is_stored(svc):
    bad = GOOD + b'\n{"instruction": "What is 1 plus 2?"}\n'
    r = _upload(svc, data=bad)
    assert r.status_code == 422
    body = r.json()
    assert body["row"] == len(ROWS) + 1 and body["file"] == "sums.jsonl" and body["error"]
    assert svc.local.list_datasets() == [] and _files(Path(svc.settings.archive_root)) == []


def test_api_store_raises_the_data_error_with_its_row(svc):
    bad = GOOD + b'\n{"instruction": "What is 1 plus 2?", "response": ""}\n'
    with pytest.raises(ValidationError) as info:
        svc.api_store("alice").upload_dataset(data=bad, filename="d.jsonl")
    assert info.value.row == len(ROWS) + 1 and info.value.file == "d.jsonl"


@pytest.mark.parametrize("size", [20_001, 100_000])
def test_oversized_uploads_are_413_and_nothing_is_stored(svc, size):
    r = _upload(svc, data=b"x" * size, filename="big.txt")
    assert r.status_code == 413 and r.json()["type"] == "UploadTooLarge"
    assert svc.local.list_datasets() == [] and _files(Path(svc.settings.archive_root)) == []


def test_a_stream_that_lies_about_its_length_is_still_cut_off(svc):
    def chunks():
        for _ in range(50):
            yield b"y" * 1000
    r = svc.http("alice").put("/v1/datasets/upload", content=chunks(), params={"filename": "big.txt"})
    assert r.status_code == 413
    assert svc.local.list_datasets() == [] and _files(Path(svc.settings.archive_root)) == []


TRAVERSALS = [
    "../escape.jsonl", "../../etc/passwd", "/etc/passwd", "//server/share.jsonl", "sub/../../x.jsonl",
    "..%2Fescape.jsonl", "%2e%2e%2fescape.jsonl", "..%252Fescape.jsonl", "%252e%252e%252fescape.jsonl",
    "..\\escape.jsonl", "C:\\temp\\x.jsonl", "x.jsonl\x00.txt", "..", ".",
]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_upload_names_cannot_escape_and_nothing_is_stored(svc, tmp_path, name):
    r = _upload(svc, filename=name)
    assert r.status_code in (400, 422), r.text
    assert r.json()["type"] in ("UnsafePath", "ValidationError")
    assert svc.local.list_datasets() == [] and _files(Path(svc.settings.archive_root)) == []
    assert not (tmp_path / "escape.jsonl").exists() and not (tmp_path.parent / "escape.jsonl").exists()


def test_api_store_raises_unsafe_path(svc):
    with pytest.raises(UnsafePath):
        svc.api_store("alice").upload_dataset(data=GOOD, filename="../x.jsonl")


def test_visitors_cannot_upload(svc):
    r = _upload(svc, who=None)
    assert r.status_code == 401 and svc.local.list_datasets() == []


def test_others_datasets_are_hidden(svc):
    dataset_id = _upload(svc).json()["dataset"]["id"]
    assert svc.http("bob").get(f"/v1/datasets/{dataset_id}").status_code == 404
    assert svc.http("bob").get("/v1/datasets").json() == []
    assert svc.http("alice").get(f"/v1/datasets/{dataset_id}").status_code == 200
    assert svc.http("root").get(f"/v1/datasets/{dataset_id}").status_code == 200


@pytest.mark.parametrize("filename", ["invoice\u202efdp.exe", "da\u200bta.jsonl", "data%E2%80%AE.jsonl"])
def test_names_with_invisible_or_bidi_characters_are_refused(svc, filename):
    r = _upload(svc, filename=filename)
    assert r.status_code == 400 and r.json()["type"] == "UnsafePath", r.text
    named = _upload(svc, name="sums\u202e.exe")  # the dataset's shown name too
    assert named.status_code == 422 and "U+202E" in named.json()["error"]
    assert svc.local.list_datasets() == [] and _files(Path(svc.settings.archive_root)) == []
    joined = _upload(svc, name="family \U0001F468\u200d\U0001F469\u200d\U0001F467 sums")  # joiners stay allowed
    assert joined.status_code == 201, joined.text


def test_json_nested_5000_deep_is_a_plain_data_error(svc):
    r = _upload(svc, data=b"[" * 5000 + b"]" * 5000, filename="deep.json")
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"] in ("DataValidationError", "DatasetRejected") and body["file"] == "deep.json"
    assert "nested more than 32 levels" in body["error"] and "Recursion" not in r.text
    assert svc.local.list_datasets() == []
