"""Small Python function tasks in HumanEval format.

Each template is a tiny function family with one or two constants baked into
its name, so every task has a unique ``entry_point`` and a checkable
canonical solution. The tests are computed from the same solution text they
check, so they cannot disagree with it.
"""
from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from hubkit.microworld._common import rng_for
from hubkit.microworld._registry import DOMAINS, Domain, Item


@dataclass(frozen=True)
class _Template:
    name: Callable[[tuple], str]
    signature: str
    doc: Callable[[tuple], str]
    body: Callable[[tuple], str]
    constants: Callable[[random.Random], tuple]
    inputs: Callable[[random.Random], list[tuple]]


_LETTERS = "abcdefgh"


def _ints(rng: random.Random, k: int = 3) -> list[tuple]:
    return [(rng.randint(-9, 20),) for _ in range(k)]


def _naturals(rng: random.Random, k: int = 4) -> list[tuple]:
    return [(rng.randint(0, 60),) for _ in range(k)]


def _lists(rng: random.Random, k: int = 3) -> list[tuple]:
    return [([rng.randint(0, 9) for _ in range(rng.randint(1, 5))],) for _ in range(k)]


def _words(rng: random.Random, k: int = 3) -> list[tuple]:
    return [("".join(rng.choice(_LETTERS) for _ in range(rng.randint(1, 6))),) for _ in range(k)]


def _num(lo: int, hi: int) -> Callable[[random.Random], tuple]:
    return lambda r: (r.randint(lo, hi),)


def _letter(alphabet: str) -> Callable[[random.Random], tuple]:
    return lambda r: (r.choice(alphabet),)


_TEMPLATES = (
    _Template(lambda c: f"add_{c[0]}", "x: int) -> int", lambda c: f"Return x plus {c[0]}.",
              lambda c: f"return x + {c[0]}", _num(1, 99), _ints),
    _Template(lambda c: f"times_{c[0]}", "x: int) -> int", lambda c: f"Return x times {c[0]}.",
              lambda c: f"return x * {c[0]}", _num(2, 50), _ints),
    _Template(lambda c: f"linear_{c[0]}_{c[1]}", "x: int) -> int",
              lambda c: f"Return {c[0]} times x plus {c[1]}.",
              lambda c: f"return {c[0]} * x + {c[1]}", lambda r: (r.randint(2, 9), r.randint(1, 20)), _ints),
    _Template(lambda c: f"is_multiple_of_{c[0]}", "x: int) -> bool",
              lambda c: f"Return True if x is a multiple of {c[0]}.",
              lambda c: f"return x % {c[0]} == 0", _num(2, 50), _naturals),
    _Template(lambda c: f"min_with_{c[0]}", "x: int) -> int",
              lambda c: f"Return the smaller of x and {c[0]}.",
              lambda c: f"return min(x, {c[0]})", _num(1, 99), _ints),
    _Template(lambda c: f"count_{c[0]}", "s: str) -> int",
              lambda c: f"Return how many times the letter '{c[0]}' appears in s.",
              lambda c: f"return s.count('{c[0]}')", _letter(_LETTERS), _words),
    _Template(lambda c: f"starts_with_{c[0]}", "s: str) -> bool",
              lambda c: f"Return True if s starts with the letter '{c[0]}'.",
              lambda c: f"return s.startswith('{c[0]}')", _letter(string.ascii_lowercase), _words),
    _Template(lambda c: f"repeat_{c[0]}", "s: str) -> str",
              lambda c: f"Return s repeated {c[0]} times.",
              lambda c: f"return s * {c[0]}", _num(2, 9), _words),
    _Template(lambda c: f"scale_list_{c[0]}", "xs: list) -> list",
              lambda c: f"Return a list with every number in xs multiplied by {c[0]}.",
              lambda c: f"return [x * {c[0]} for x in xs]", _num(2, 50), _lists),
    _Template(lambda c: f"sum_above_{c[0]}", "xs: list) -> int",
              lambda c: f"Return the sum of the numbers in xs that are greater than {c[0]}.",
              lambda c: f"return sum(x for x in xs if x > {c[0]})", _num(0, 9), _lists),
    _Template(lambda c: f"count_above_{c[0]}", "xs: list) -> int",
              lambda c: f"Return how many numbers in xs are greater than {c[0]}.",
              lambda c: f"return len([x for x in xs if x > {c[0]}])", _num(0, 9), _lists),
    _Template(lambda c: f"max_plus_{c[0]}", "xs: list) -> int",
              lambda c: f"Return the largest number in xs plus {c[0]}.",
              lambda c: f"return max(xs) + {c[0]}", _num(1, 99), _lists),
)


def _expected(prompt: str, solution: str, entry_point: str, args: tuple) -> object:
    namespace: dict[str, object] = {}
    exec(prompt + solution, namespace)  # noqa: S102 - our own generated source, not user input
    return namespace[entry_point](*args)  # type: ignore[operator]


def sample(rng: random.Random) -> Item:
    index = rng.randrange(len(_TEMPLATES))
    return dict(_task(index, _TEMPLATES[index].constants(rng)))


@cache
def _task(index: int, consts: tuple) -> Item:
    """The task for one template and its constants (built once: it runs the solution)."""
    template = _TEMPLATES[index]
    name = template.name(consts)
    head = f"def {name}({template.signature}:\n"
    solution = f"    {template.body(consts)}\n"
    # Examples depend only on the task, so a task reads the same in every draw.
    case_rng = rng_for("code-cases", name)
    example = template.inputs(case_rng)[0]
    cases = template.inputs(case_rng)
    # The docstring example and the asserts are computed from the solution itself.
    prompt = (
        f'{head}    """{template.doc(consts)}\n'
        f"    >>> {name}({', '.join(map(repr, example))})\n"
        f"    {_expected(head, solution, name, example)!r}\n"
        f'    """\n'
    )
    asserts = "".join(
        f"    assert candidate({', '.join(map(repr, case))}) == {_expected(head, solution, name, case)!r}\n"
        for case in cases
    )
    return {
        "task_id": f"MicroCode/{name}",
        "prompt": prompt,
        "canonical_solution": solution,
        "test": f"\n\ndef check(candidate):\n{asserts}",
        "entry_point": name,
    }


DOMAINS.register(
    Domain(
        name="code",
        description="Tiny Python functions to complete from a signature and docstring, with unit tests (HumanEval style).",
        item_format='{"task_id", "prompt", "canonical_solution", "test" (defines check(candidate)), "entry_point"}',
        fields=("task_id", "prompt", "canonical_solution", "test", "entry_point"),
        sample=sample,
        key=lambda item: item["entry_point"],
        render=lambda item: (item["prompt"], item["canonical_solution"]),
    )
)
