"""How much data one upload may hold; read from Settings so operators tune it."""
from __future__ import annotations

from dataclasses import dataclass

from hubkit.config import Settings


@dataclass(frozen=True)
class DataLimits:
    """Upper bounds checked before a dataset is accepted."""

    max_bytes: int = 50_000_000
    max_rows: int = 200_000
    max_row_bytes: int = 1_000_000
    """One row (one line of JSONL or TXT, one CSV record) may be at most this large."""
    max_problems: int = 20
    """Validation stops collecting after this many problems and reports them together."""

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: int) -> DataLimits:
        values = {"max_bytes": settings.max_upload_bytes, "max_rows": settings.max_dataset_rows}
        values.update(overrides)
        return cls(**values)


def human_bytes(n: int) -> str:
    """Sizes the way people say them: 1.5 MB, 200 KB, 12 bytes."""
    for unit, size in (("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}".replace(".0 ", " ")
    return f"{n} byte{'s' if n != 1 else ''}"
