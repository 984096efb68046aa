"""Which format a table is in, and which column feeds which field.

Detection is deliberately cautious: it is confident only when exactly one
format fits. Otherwise it returns the candidates so the caller (the wizard, the
CLI) can ask the person to choose or to map columns.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hubkit.data.formats import FORMATS, DataFormat, get_format
from hubkit.data.problems import reject
from hubkit.data.readers import RawTable

CONFIDENT = 0.75
_SAMPLE_ROWS = 50


@dataclass(frozen=True)
class Candidate:
    format: str
    mapping: dict[str, str]
    """Source column → normalised field."""
    confidence: float


@dataclass(frozen=True)
class Detection:
    columns: list[str]
    candidates: list[Candidate] = field(default_factory=list)
    """Every format that could fit, best first."""

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def format(self) -> str | None:
        return self.best.format if self.best else None

    @property
    def mapping(self) -> dict[str, str]:
        return dict(self.best.mapping) if self.best else {}

    @property
    def confidence(self) -> float:
        return self.best.confidence if self.best else 0.0

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT


def _find(columns: Sequence[str], name: str, used: set[str]) -> str | None:
    for column in columns:
        if column not in used and column.strip().lower() == name:
            return column
    return None


def resolve_fields(fmt: DataFormat, columns: Sequence[str],
                   fixed: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """Field → column for ``fmt`` (fixed choices first, then aliases); and the missing fields."""
    chosen = dict(fixed or {})
    used = set(chosen.values())
    for spec in fmt.required + tuple(f for f in fmt.fields if not f.required):
        if spec.name in chosen:
            continue
        for alias in spec.aliases:
            column = _find(columns, alias, used)
            if column is not None:
                chosen[spec.name] = column
                used.add(column)
                break
    missing = [spec.name for spec in fmt.required if spec.name not in chosen]
    return chosen, missing


def _holds_messages(values: list[Any]) -> bool:
    for value in values:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                return False
        if value is not None and not isinstance(value, (list, tuple)):
            return False
    return True


def _holds_text(values: list[Any]) -> bool:
    return all(v is None or isinstance(v, (str, int, float)) for v in values) and any(
        isinstance(v, str) for v in values)


def detect_format(table: RawTable) -> Detection:
    """Candidates for ``table``, best first; see ``Detection.confident``."""
    sample = table.records[:_SAMPLE_ROWS]

    def values(column: str) -> list[Any]:
        return [r.values.get(column) for r in sample]

    fits: list[tuple[str, dict[str, str], bool]] = []
    for fmt in FORMATS.values():
        chosen, missing = resolve_fields(fmt, table.columns)
        if missing:
            continue
        if any(spec.kind == "messages" and not _holds_messages(values(chosen[spec.name]))
               for spec in fmt.fields if spec.name in chosen):
            continue
        exact = all(chosen[s.name].strip().lower() == s.name for s in fmt.required)
        fits.append((fmt.name, chosen, exact))
    candidates: list[Candidate]
    if len(fits) == 1:
        name, chosen, exact = fits[0]
        candidates = [Candidate(name, _invert(chosen), 1.0 if exact else 0.9)]
    elif fits:
        candidates = [Candidate(n, _invert(c), 0.55 if e else 0.5) for n, c, e in fits]
    else:
        texty = [c for c in table.columns if _holds_text(values(c))]
        score = 0.6 if len(table.columns) == 1 else 0.3
        candidates = [Candidate("text", {c: "text"}, score) for c in texty]
    candidates.sort(key=lambda c: -c.confidence)
    return Detection(columns=list(table.columns), candidates=candidates)


def _invert(field_to_column: Mapping[str, str]) -> dict[str, str]:
    return {column: name for name, column in field_to_column.items()}


def _describe(candidate: Candidate) -> str:
    pairs = ", ".join(f"{col} → {fld}" for col, fld in candidate.mapping.items())
    return f"{get_format(candidate.format).title.lower()} ({pairs})"


def _columns_text(columns: Sequence[str]) -> str:
    return ", ".join(columns) if columns else "(none)"


def choose_format(
    table: RawTable, *, format: str | None = None, mapping: Mapping[str, str] | None = None,
) -> tuple[DataFormat, dict[str, str], Detection]:
    """The format and field → column map to use, or a rejection that lists columns found
    and expected. An explicit ``format`` or ``mapping`` (column → field) wins over detection."""
    detection = detect_format(table)
    file = table.file
    fixed = _check_mapping(table, mapping or {})
    if format is None and fixed:
        format = _format_for_fields(set(fixed), file)
    if format is None:
        if detection.confident:
            fmt = get_format(detection.format or "")
            chosen, _ = resolve_fields(fmt, table.columns)
            return fmt, chosen, detection
        if detection.candidates:
            options = "; or ".join(_describe(c) for c in detection.candidates[:4])
            reject(
                f"We are not sure how to read {file}. It has the columns "
                f"{_columns_text(table.columns)}. It could be: {options}. "
                + _expected_text() + " Choose the format or say which column is which.",
                file=file, detail=f"candidates: {detection.candidates}",
            )
        reject(
            f"{file} has the columns {_columns_text(table.columns)}, and none of them fits a "
            "dataset format. " + _expected_text() + " Rename your columns or say which is which.",
            file=file,
        )
    fmt = get_format(format)
    chosen, missing = resolve_fields(fmt, table.columns, fixed)
    if missing and len(fmt.required) == 1 and not fixed:
        texty = [c for c in table.columns if c not in chosen.values()]
        if len(texty) == 1:
            chosen[missing[0]] = texty[0]
            missing = []
    if missing:
        spec = fmt.field(missing[0])
        names = " or ".join(spec.aliases[:4])
        reject(
            f"No column for the {spec.name} in {file}: it has the columns "
            f"{_columns_text(table.columns)}, and a {fmt.title.lower()} dataset needs a column "
            f"named {names}. Rename a column, or say which column holds the {spec.name}.",
            file=file, field=spec.name,
            detail=f"missing fields {missing}; columns {table.columns}",
        )
    return fmt, chosen, detection


def _expected_text() -> str:
    """The columns each format needs, by their two most common names."""
    parts = []
    for fmt in FORMATS.values():
        need = ", and ".join(" or ".join(spec.aliases[:2]) for spec in fmt.required)
        parts.append(f"{fmt.title.lower()}: {need}")
    return "Expected columns for " + "; ".join(parts) + "."


def _check_mapping(table: RawTable, mapping: Mapping[str, str]) -> dict[str, str]:
    known = {spec.name for fmt in FORMATS.values() for spec in fmt.fields}
    fixed: dict[str, str] = {}
    for column, name in mapping.items():
        if column not in table.columns:
            reject(f"There is no column {column!r} in {table.file}; it has the columns "
                   f"{_columns_text(table.columns)}.", file=table.file, field=column)
        if name not in known:
            reject(f"{name!r} is not a field a column can be mapped to; choose one of "
                   f"{', '.join(sorted(known))}.", file=table.file, field=column)
        if name in fixed:
            reject(f"Two columns ({fixed[name]} and {column}) are both mapped to {name}; "
                   "map one column to each field.", file=table.file, field=name)
        fixed[name] = column
    return fixed


def _format_for_fields(fields: set[str], file: str) -> str:
    matches = [fmt.name for fmt in FORMATS.values() if fields <= {s.name for s in fmt.fields}]
    if len(matches) != 1:
        reject(f"The fields {', '.join(sorted(fields))} do not belong to one dataset format; "
               "choose the format too.", file=file)
    return matches[0]
