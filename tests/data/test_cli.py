"""``hubkit data check``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubkit.cli import main
from tests.data.corpus import jsonl, qa


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_HOME", str(tmp_path / "home"))


def test_valid_file_prints_stats_and_preview(tmp_path: Path, capsys) -> None:
    path = tmp_path / "math.csv"
    path.write_text("question,answer\nWhat is 1 plus 1?,2\nWhat is 1 plus 1?,2\n")
    assert main(["data", "check", str(path), "--max-seq-len", "3"]) == 0
    out = capsys.readouterr().out
    assert "valid question and answer dataset (instruction), 2 rows" in out
    assert "question → instruction, answer → response" in out
    assert "1 row repeats an earlier row." in out
    assert "What is 1 plus 1?" in out
    assert "fingerprint: " in out


def test_invalid_file_exits_2_with_plain_messages(tmp_path: Path, capsys) -> None:
    rows = qa(20)
    del rows[13]["answer"]
    path = tmp_path / "math.jsonl"
    path.write_bytes(jsonl(*rows))
    assert main(["data", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Row 14 has no answer: every row needs both a question and an answer." in err


def test_map_and_format_options(tmp_path: Path, capsys) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(jsonl({"q": "hello", "a": "world"}))
    assert main(["data", "check", str(path)]) == 2
    capsys.readouterr()
    assert main(["data", "check", str(path), "--map", "q=prompt", "--map", "a=completion",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] and report["format"] == "prompt_completion"
    assert report["preview"] == [{"prompt": "hello", "completion": "world"}]
    assert main(["data", "check", str(path), "--map", "nonsense"]) == 2


def test_json_problems(tmp_path: Path, capsys) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(jsonl({"text": ""}, {"text": "ok"}, {"text": None}))
    assert main(["data", "check", str(path), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["total"] == 2
    assert [(p["row"], p["field"]) for p in report["problems"]] == [(1, "text"), (3, "text")]


def test_unknown_dataset_id_exits_2(capsys) -> None:
    assert main(["data", "check", "nobody/nothing"]) == 2
    assert "not on this machine" in capsys.readouterr().err
