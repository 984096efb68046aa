"""Math word problems in GSM8K format: the answer ends with ``#### N``.

Numbers stay small (results at most a few hundred) so a tiny model can learn
the arithmetic; the reasoning text before ``####`` mirrors GSM8K's style
without its calculator annotations.
"""
from __future__ import annotations

import random

from hubkit.microworld._registry import DOMAINS, Domain, Item
from hubkit.microworld.world import OBJECTS, PEOPLE, PRONOUN


def _add(rng: random.Random, name: str, obj: str) -> tuple[str, str, int]:
    a, b = rng.randint(1, 20), rng.randint(1, 20)
    q = f"{name} has {a} {obj}. {PRONOUN[name].capitalize()} finds {b} more. How many {obj} does {name} have now?"
    return q, f"{name} has {a} + {b} = {a + b} {obj} now.", a + b


def _sub(rng: random.Random, name: str, obj: str) -> tuple[str, str, int]:
    a = rng.randint(2, 30)
    b = rng.randint(1, a - 1)
    q = f"{name} has {a} {obj}. {PRONOUN[name].capitalize()} gives {b} away. How many {obj} does {name} have left?"
    return q, f"{name} has {a} - {b} = {a - b} {obj} left.", a - b


def _mul(rng: random.Random, name: str, obj: str) -> tuple[str, str, int]:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    q = f"{name} buys {a} bags with {b} {obj} in each bag. How many {obj} does {name} buy?"
    return q, f"{name} buys {a} * {b} = {a * b} {obj}.", a * b


def _two_step(rng: random.Random, name: str, obj: str) -> tuple[str, str, int]:
    a, b = rng.randint(1, 20), rng.randint(1, 20)
    c = rng.randint(1, a + b - 1)
    q = (
        f"{name} has {a} {obj}. {PRONOUN[name].capitalize()} finds {b} more "
        f"and then gives {c} away. How many {obj} does {name} have left?"
    )
    steps = f"{name} has {a} + {b} = {a + b} {obj}. Then {a + b} - {c} = {a + b - c} {obj} are left."
    return q, steps, a + b - c


_TEMPLATES = (_add, _sub, _mul, _two_step)


def sample(rng: random.Random) -> Item:
    template = rng.choice(_TEMPLATES)
    question, steps, result = template(rng, rng.choice(PEOPLE), rng.choice(OBJECTS))
    return {"question": question, "answer": f"{steps}\n#### {result}"}


def final_answer(item: Item) -> int:
    """The number after ``####`` (what GSM8K scoring compares)."""
    return int(item["answer"].rsplit("####", 1)[1].strip())


DOMAINS.register(
    Domain(
        name="math",
        description="Short arithmetic word problems about people and things in Veldra (GSM8K style).",
        item_format='{"question": str, "answer": str ending with "#### N"}',
        fields=("question", "answer"),
        sample=sample,
        key=lambda item: item["question"],
        render=lambda item: (f"Question: {item['question']}\nAnswer:", f" {item['answer']}"),
    )
)
