"""Format detection, aliases and explicit column mappings."""
from __future__ import annotations

import pytest

from hubkit.data import DataLimits, inspect_upload, prepare_records, prepare_upload
from hubkit.errors import DatasetRejected, ValidationError
from tests.data.corpus import jsonl


def _prep(rows, **kw):
    return prepare_records(records=rows, name="rows", limits=DataLimits(), **kw)


@pytest.mark.parametrize(
    ("row", "fmt", "mapping", "confidence"),
    [
        ({"text": "a"}, "text", {"text": "text"}, 1.0),
        ({"content": "a", "id": 3}, "text", {"content": "text"}, 0.9),
        ({"instruction": "i", "response": "r"}, "instruction",
         {"instruction": "instruction", "response": "response"}, 1.0),
        ({"Question": "q", "Answer": "a"}, "instruction",
         {"Question": "instruction", "Answer": "response"}, 0.9),
        ({"input": "i", "output": "o"}, "instruction",
         {"input": "instruction", "output": "response"}, 0.9),
        ({"instruction": "i", "input": "x", "output": "o"}, "instruction",
         {"instruction": "instruction", "input": "input", "output": "response"}, 0.9),
        ({"prompt": "p", "completion": "c"}, "prompt_completion",
         {"prompt": "prompt", "completion": "completion"}, 1.0),
        ({"prompt": "p", "response": "c"}, "instruction",
         {"prompt": "instruction", "response": "response"}, 0.9),
        ({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]},
         "chat", {"messages": "messages"}, 1.0),
        ({"conversations": [{"from": "human", "value": "u"}, {"from": "gpt", "value": "a"}]},
         "chat", {"conversations": "messages"}, 0.9),
    ],
)
def test_detects_format_and_aliases(row, fmt, mapping, confidence) -> None:
    prepared = _prep([row])
    assert prepared.format == fmt
    assert prepared.column_mapping == mapping
    assert prepared.detection.confidence == confidence
    assert prepared.detection.confident


def test_alpaca_input_is_kept_and_rendered_into_the_prompt() -> None:
    prepared = _prep([{"instruction": "Add", "input": "2 and 3", "output": "5"}])
    assert prepared.preview(1) == [{"instruction": "Add", "input": "2 and 3", "response": "5"}]


def test_unsure_detection_offers_candidates_and_mapping_resolves_it() -> None:
    data = jsonl({"sentence": "hello world"})
    detection = inspect_upload(data=data, filename="s.jsonl", limits=DataLimits())
    assert not detection.confident
    assert detection.format == "text" and detection.mapping == {"sentence": "text"}
    with pytest.raises(DatasetRejected, match="not sure how to read"):
        prepare_upload(data=data, filename="s.jsonl", limits=DataLimits())
    prepared = prepare_upload(data=data, filename="s.jsonl", limits=DataLimits(),
                              mapping={"sentence": "text"})
    assert prepared.format == "text" and prepared.preview(1) == [{"text": "hello world"}]


def test_explicit_format_with_one_column_uses_it() -> None:
    prepared = prepare_upload(data=jsonl({"sentence": "hi"}), filename="s.jsonl",
                              limits=DataLimits(), format="text")
    assert prepared.column_mapping == {"sentence": "text"}


def test_ambiguous_file_lists_every_candidate() -> None:
    data = jsonl({"text": "t", "prompt": "p", "completion": "c"})
    detection = inspect_upload(data=data, filename="x.jsonl", limits=DataLimits())
    assert {c.format for c in detection.candidates} == {"text", "prompt_completion"}
    assert not detection.confident
    prepared = prepare_upload(data=data, filename="x.jsonl", limits=DataLimits(),
                              format="prompt_completion")
    assert prepared.stats.ignored_columns == ["text"]
    assert "Not used: the column text." in prepared.stats.warnings


def test_mapping_picks_format_and_overrides_aliases() -> None:
    rows = [{"q": "question one", "a": "answer one", "answer": "ignored"}]
    prepared = _prep(rows, mapping={"q": "instruction", "a": "response"})
    assert prepared.format == "instruction"
    assert prepared.column_mapping == {"q": "instruction", "a": "response"}
    assert prepared.preview(1)[0]["response"] == "answer one"


def test_bad_mappings_are_explained() -> None:
    with pytest.raises(DatasetRejected, match="'label' is not a field"):
        _prep([{"text": "a"}], mapping={"text": "label"})
    with pytest.raises(DatasetRejected, match="both mapped to text"):
        _prep([{"a": "x", "b": "y"}], mapping={"a": "text", "b": "text"})
    with pytest.raises(DatasetRejected, match="do not belong to one dataset format"):
        _prep([{"a": "x", "b": "y"}], mapping={"a": "text", "b": "prompt"})


def test_unknown_format_name_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="not a dataset format"):
        _prep([{"text": "a"}], format="pairs")


def test_detection_does_not_take_plain_strings_for_conversations() -> None:
    prepared = _prep([{"conversation": "just words", "text": "body"}])
    assert prepared.format == "text"
