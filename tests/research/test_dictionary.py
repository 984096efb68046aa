"""docs/schema.md is generated from the models and its examples run on both backends."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from hubkit.research import dictionary
from tests.research.world import World

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def test_every_column_of_every_table_is_explained():
    assert dictionary.undocumented() == []


def test_a_new_column_without_a_meaning_is_caught(monkeypatch: pytest.MonkeyPatch):
    trimmed = {t: dict(c) for t, c in dictionary.COLUMN_MEANING.items()}
    del trimmed["models"]["parent_model_id"]
    trimmed["models"]["renamed_away"] = "a column that no longer exists"
    monkeypatch.setattr(dictionary, "COLUMN_MEANING", trimmed)
    assert dictionary.undocumented() == ["models.parent_model_id", "models.renamed_away (no longer in the schema)"]


def test_dictionary_carries_types_keys_and_nullability():
    entries = {(e.table, e.column): e for e in dictionary.data_dictionary()}
    parent = entries[("models", "parent_model_id")]
    assert parent.nullable and parent.key == "FK → models.id"
    assert entries[("models", "id")].key == "PK"
    assert entries[("models", "training_outcome")].type == "enum(success, failure, partial)"
    assert entries[("models", "loss_curve_data")].type.startswith("JSON")


def test_schema_doc_is_up_to_date_with_the_models():
    assert DOC.read_text(encoding="utf-8") == dictionary.render_markdown(), (
        "docs/schema.md is stale: run `hubkit research schema > docs/schema.md`")


def test_schema_doc_examples_run(world: World, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HUBKIT_DB_URL", world.store.url)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) == len(dictionary.EXAMPLES)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    assert set(namespace["attempts"]["training_outcome"].dropna()) == {"success", "failure", "partial"}
    assert namespace["by_family"].set_index("family").loc["llama3", "failures"] == 3
    assert len(namespace["off_target"]) > 0
    assert list(namespace["ancestry"]["depth"]) == [0, 1, 2]
    assert "learning_rate" in namespace["knobs"].columns
    assert len(namespace["frame"]) == len(world.ids)
