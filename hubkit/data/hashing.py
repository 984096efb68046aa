"""Content hashes of normalised data.

``fingerprint`` identifies a dataset by what it teaches, not by how it was
spelled on disk: the same rows as CSV or JSONL give the same fingerprint.
``item_hash`` identifies one item loosely (spacing ignored) so repeats and
benchmark overlap are found even when whitespace differs.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

_VERSION = "hubkit-dataset-v1"


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _squeeze(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, Mapping):
        return {k: _squeeze(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_squeeze(v) for v in value]
    return value


def item_hash(item: Mapping[str, Any]) -> str:
    """sha256 of one normalised item with runs of whitespace collapsed."""
    return hashlib.sha256(canonical_json(_squeeze(item)).encode("utf-8")).hexdigest()


def fingerprint(items: Iterable[Mapping[str, Any]], *, fmt: str) -> str:
    """sha256 over the format and every normalised item, in order."""
    digest = hashlib.sha256(f"{_VERSION}\n{fmt}\n".encode())
    for item in items:
        digest.update(canonical_json(item).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
