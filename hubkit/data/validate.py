"""Rows to normalised items, collecting every problem with its row and field.

Nothing is returned unless every row is valid: a dataset is accepted whole or
not at all.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hubkit.data.formats import (
    Coerced,
    DataFormat,
    RowProblem,
    messages_value,
    text_value,
)
from hubkit.data.readers import RawTable, where


@dataclass
class Normalised:
    items: list[dict[str, Any]]
    coerced: Counter[str] = field(default_factory=Counter)
    """Normalised field → how many values were numbers used as text."""


def _a(noun: str) -> str:
    if noun == "text":
        return "some text"
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def needs_sentence(nouns: list[str]) -> str:
    if len(nouns) == 1:
        return f"every row needs {_a(nouns[0])}"
    if len(nouns) == 2:
        return f"every row needs both {_a(nouns[0])} and {_a(nouns[1])}"
    return f"every row needs {', '.join(_a(n) for n in nouns[:-1])} and {_a(nouns[-1])}"


def normalise_table(table: RawTable, *, fmt: DataFormat, columns: Mapping[str, str]) -> Normalised:
    """``columns`` maps each normalised field to its source column."""
    problems = table.problems
    nouns = [columns[s.name] for s in fmt.required]
    needs = needs_sentence(nouns)
    out = Normalised(items=[])
    for record in table.records:
        label = where(record.row, record.line)
        notes: list[Coerced] = []
        item: dict[str, Any] = {}
        try:
            for spec in fmt.fields:
                column = columns.get(spec.name)
                raw = record.values.get(column) if column is not None else None
                if not spec.required:
                    item[spec.name] = _optional_text(raw, spec.name, column or spec.name, label,
                                                     notes)
                elif spec.kind == "messages":
                    item[spec.name] = messages_value(raw, field=spec.name, noun=column or spec.name,
                                                     label=label, notes=notes)
                else:
                    item[spec.name] = text_value(raw, field=spec.name, noun=column or spec.name,
                                                 label=label, needs=needs, notes=notes)
        except RowProblem as problem:
            problems.add(problem.message, row=record.row,
                         field=columns.get(problem.field, problem.field))
            continue
        out.coerced.update(n.field for n in notes)
        out.items.append(item)
    problems.raise_if_any()
    return out


def _optional_text(raw: Any, name: str, noun: str, label: str, notes: list[Coerced]) -> str:
    blank = isinstance(raw, str) and not raw.strip()
    if raw is None or blank or (isinstance(raw, float) and math.isnan(raw)):
        return ""
    return text_value(raw, field=name, noun=noun, label=label, needs="", notes=notes)
