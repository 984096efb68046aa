"""Collect validation problems and turn them into one ``DatasetRejected``.

Problems carry the file, the 1-based row as a person counts it, the field, and
a sentence a casual user can act on.
"""
from __future__ import annotations

from typing import NoReturn

from hubkit.errors import DatasetRejected, DataValidationError


def reject(message: str, *, file: str | None, row: int | None = None,
           field: str | None = None, detail: str | None = None) -> NoReturn:
    """Raise a single-problem rejection (for problems that stop reading at once)."""
    problem = DataValidationError(message, file=file, row=row, field=field, detail=detail)
    raise DatasetRejected([problem])


_KEEP = 1000


class ProblemList:
    """Problems from reading and from checking rows, reported together in row order:
    the first ``limit`` are kept on the error, the rest are counted."""

    def __init__(self, *, file: str | None, limit: int) -> None:
        self.file = file
        self.limit = limit
        self.total = 0
        self.items: list[DataValidationError] = []

    def add(self, message: str, *, row: int | None = None, field: str | None = None,
            detail: str | None = None) -> None:
        self.total += 1
        if len(self.items) < max(self.limit, _KEEP):
            self.items.append(
                DataValidationError(message, file=self.file, row=row, field=field, detail=detail)
            )

    def __bool__(self) -> bool:
        return self.total > 0

    def raise_if_any(self) -> None:
        if self.items:
            first = sorted(self.items, key=lambda p: p.row or 0)[: self.limit]
            raise DatasetRejected(first, total=self.total)
