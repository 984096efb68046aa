"""The reader and format registries refuse silent overrides."""
from __future__ import annotations

import pytest

from hubkit.data import FORMATS, READERS, supported_extensions
from hubkit.data.formats import DataFormat, FieldSpec, register_format
from hubkit.data.readers import register_reader
from hubkit.errors import DatasetRejected, DataValidationError


def test_duplicate_extension_is_refused() -> None:
    with pytest.raises(ValueError, match="already has reader 'csv'"):
        register_reader("other", "csv")(READERS["csv"].read)


def test_duplicate_format_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_format(DataFormat("text", "t", "d", (FieldSpec("text", ("text",)),)))


def test_registered_names() -> None:
    assert set(FORMATS) == {"text", "instruction", "prompt_completion", "chat"}
    assert supported_extensions() == ["csv", "json", "jsonl", "ndjson", "parquet", "tsv", "txt"]


def test_rejection_needs_a_problem() -> None:
    with pytest.raises(ValueError):
        DatasetRejected([])
    one = DatasetRejected([DataValidationError("Row 2 is bad.", file="f", row=2, field="x")])
    assert (one.file, one.row, one.field, one.total) == ("f", 2, "x", 1)
    assert one.message == "Row 2 is bad."
