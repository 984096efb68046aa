"""JSON-safe numbers: NaN and infinities as the strings "nan", "inf", "-inf".

JSON has no NaN; SQLite stores NaN as NULL. A diverged run's loss is still data,
so non-finite values are kept in this documented string form everywhere a
curve or config is stored as JSON.
"""
from __future__ import annotations

import math
from typing import Any

NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_number(value: float) -> float | str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def decode_number(value: Any) -> Any:
    if isinstance(value, str) and value in NONFINITE:
        return NONFINITE[value]
    return value


def encode(obj: Any) -> Any:
    """Recursively replace non-finite floats; everything else must already be JSON."""
    if isinstance(obj, float):
        return encode_number(obj)
    if isinstance(obj, dict):
        return {str(k): encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode(v) for v in obj]
    return obj
