"""Numbers a person looks at before training: size, lengths, repeats, truncation."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hubkit.data.render import (
    TruncationReport,
    count_tokens,
    render_parts,
    truncation_report,
)

HISTOGRAM_BINS = 10


@dataclass(frozen=True)
class LengthBin:
    low: int
    high: int
    """Inclusive bounds."""
    count: int


@dataclass(frozen=True)
class DatasetStats:
    rows: int
    characters: int
    words: int
    tokens: int | None
    """With the tokenizer given, else None."""
    unit: str
    """'tokens' when a tokenizer was given, else 'words': the unit of the lengths below."""
    min_length: int
    mean_length: float
    max_length: int
    histogram: list[LengthBin]
    duplicates: int
    """Rows that repeat an earlier row (spacing ignored)."""
    numbers_as_text: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    truncation: TruncationReport | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the run database."""
        return asdict(self)


def histogram(lengths: Sequence[int], *, bins: int = HISTOGRAM_BINS) -> list[LengthBin]:
    if not lengths:
        return []
    low, high = min(lengths), max(lengths)
    width = max(1, -(-(high - low + 1) // bins))
    counts: dict[int, int] = {}
    for n in lengths:
        counts[(n - low) // width] = counts.get((n - low) // width, 0) + 1
    return [LengthBin(low + b * width, low + (b + 1) * width - 1, counts.get(b, 0))
            for b in range(max(counts) + 1)]


def content_text(item: Mapping[str, Any]) -> str:
    """Every piece of text in an item, without any layout around it."""
    parts: list[str] = []
    for value in item.values():
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(m["content"] for m in value)
    return "\n".join(p for p in parts if p)


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many.format(n=n)


def compute_stats(items: Sequence[Mapping[str, Any]], *, fmt: str, hashes: Sequence[str],
                  tokenizer: Any = None, max_seq_len: int | None = None,
                  numbers_as_text: Mapping[str, int] | None = None,
                  ignored_columns: Sequence[str] = ()) -> DatasetStats:
    texts = [content_text(item) for item in items]
    words = [len(t.split()) for t in texts]
    if tokenizer is not None:
        rendered = [render_parts(item, tokenizer=tokenizer, fmt=fmt, spans=False)
                    for item in items]
        lengths, unit = count_tokens(rendered, tokenizer=tokenizer), "tokens"
    else:
        lengths, unit = words, "words"
    seen: set[str] = set()
    duplicates = 0
    for h in hashes:
        duplicates += h in seen
        seen.add(h)
    truncation = (truncation_report(lengths, max_seq_len=max_seq_len, unit=unit)
                  if max_seq_len else None)
    warnings = []
    if duplicates:
        warnings.append(_plural(duplicates, "1 row repeats an earlier row.",
                                "{n} rows repeat earlier rows."))
    for name, count in sorted((numbers_as_text or {}).items()):
        were = "values were numbers; they are" if count > 1 else "value was a number; it is"
        warnings.append(f"{count} {name} {were} used as text.")
    if ignored_columns:
        warnings.append(f"Not used: the column{'s' if len(ignored_columns) > 1 else ''} "
                        f"{', '.join(ignored_columns)}.")
    if truncation and truncation.rows_truncated:
        warnings.append(truncation.sentence)
    return DatasetStats(
        rows=len(items),
        characters=sum(len(t) for t in texts),
        words=sum(words),
        tokens=sum(lengths) if tokenizer is not None else None,
        unit=unit,
        min_length=min(lengths, default=0),
        mean_length=round(sum(lengths) / len(lengths), 2) if lengths else 0.0,
        max_length=max(lengths, default=0),
        histogram=histogram(lengths),
        duplicates=duplicates,
        numbers_as_text=dict(numbers_as_text or {}),
        ignored_columns=list(ignored_columns),
        truncation=truncation,
        warnings=warnings,
    )
