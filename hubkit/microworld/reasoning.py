"""Reasoning patterns as 4-choice questions: orderings, sequences, syllogisms.

Four choices and one correct continuation, so lm-eval can score them by
log-likelihood like ARC or MMLU.
"""
from __future__ import annotations

import random

from hubkit.microworld._common import mc_prompt, rng_for, shuffle_choices
from hubkit.microworld._registry import DOMAINS, Domain, Item
from hubkit.microworld.world import COLOURS, PEOPLE

_COMPARISONS = (
    ("taller", "tallest", "shortest"),
    ("older", "oldest", "youngest"),
    ("faster", "fastest", "slowest"),
)
_KINDS = ("glims", "vorps", "tazes", "bluns", "drefs", "quils")


def _ordering(rng: random.Random) -> tuple[str, str, list[str], str]:
    people = rng.sample(PEOPLE, 4)  # people[0] > people[1] > ... > people[3]
    comparative, top, bottom = rng.choice(_COMPARISONS)
    statements = [f"{people[i]} is {comparative} than {people[i + 1]}." for i in range(3)]
    rng.shuffle(statements)
    ask_top = rng.random() < 0.5
    answer = people[0] if ask_top else people[3]
    question = " ".join(statements) + f" Who is the {top if ask_top else bottom}?"
    return "ordering", question, [p for p in people if p != answer], answer


def _sequence(rng: random.Random) -> tuple[str, str, list[str], str]:
    start, step = rng.randint(1, 20), rng.randint(1, 9)
    terms = [start + i * step for i in range(4)]
    nxt = start + 4 * step
    question = f"What number comes next: {', '.join(map(str, terms))}, ...?"
    near = sorted({nxt - step, nxt + step, nxt - 1, nxt + 1, nxt + 2} - {nxt})
    distractors = [str(n) for n in rng_for("reasoning-numbers", question).sample(near, 3)]
    return "sequence", question, distractors, str(nxt)


def _syllogism(rng: random.Random) -> tuple[str, str, list[str], str]:
    kind = rng.choice(_KINDS)
    colour = rng.choice(COLOURS)
    name = rng.choice(PEOPLE)
    question = f"All {kind} are {colour}. {name}'s pet is one of the {kind}. What colour is {name}'s pet?"
    distractors = rng_for("reasoning-colours", question).sample([c for c in COLOURS if c != colour], 3)
    return "syllogism", question, distractors, colour


_PATTERNS = (_ordering, _sequence, _syllogism)


def sample(rng: random.Random) -> Item:
    pattern, question, distractors, answer = rng.choice(_PATTERNS)(rng)
    choices, index = shuffle_choices(rng_for("reasoning-choices", question), answer, distractors)
    return {"question": question, "choices": choices, "answer": index, "pattern": pattern}


DOMAINS.register(
    Domain(
        name="reasoning",
        description="Orderings, number sequences and simple syllogisms (4 choices).",
        item_format='{"question": str, "choices": [4 str], "answer": int 0-3, "pattern": str}',
        fields=("question", "choices", "answer", "pattern"),
        sample=sample,
        key=lambda item: item["question"],
        render=lambda item: (mc_prompt(item["question"], item["choices"]), f" {item['choices'][item['answer']]}"),
    )
)
