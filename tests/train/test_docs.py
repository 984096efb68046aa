"""docs/training.md shows the settings exactly as TrainSpec defines them."""
from __future__ import annotations

from pathlib import Path

from hubkit.train.spec import settings_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "training.md"


def test_settings_table_is_generated_from_the_spec() -> None:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("-->\n", text.index("<!-- settings table")) + 4
    end = text.index("<!-- end of settings table -->")
    assert text[start:end] == settings_markdown(), "regenerate the table with settings_markdown()"
