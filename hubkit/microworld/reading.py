"""Reading comprehension: a short story, a question about it, 4 choices.

The answer is always stated in the passage, so the skill is finding it, not
knowing it.
"""
from __future__ import annotations

import random

from hubkit.microworld._common import mc_prompt, rng_for, shuffle_choices
from hubkit.microworld._registry import DOMAINS, Domain, Item
from hubkit.microworld.world import COLOURS, DAYS, ITEMS, OBJECTS, PEOPLE, PLACES, PRONOUN, world


def sample(rng: random.Random) -> Item:
    name, friend = rng.sample(PEOPLE, 2)
    town = rng.choice(world().towns).name
    day, place = rng.choice(DAYS), rng.choice(PLACES)
    count, obj = rng.randint(2, 12), rng.choice(OBJECTS)
    colour, thing = rng.choice(COLOURS), rng.choice(ITEMS)
    pron = PRONOUN[name]
    passage = (
        f"{name} lives in {town}. On {day}, {pron} went to the {place} with {friend}. "
        f"{name} bought {count} {obj} and a {colour} {thing}. "
        f"Then {friend} walked home with {name}."
    )
    questions = (
        (f"Who went to the {place} with {name}?", friend, [p for p in PEOPLE if p not in (name, friend)]),
        (f"How many {obj} did {name} buy?", str(count), [str(n) for n in range(2, 13) if n != count]),
        (f"What colour was the {thing}?", colour, [c for c in COLOURS if c != colour]),
        (f"On which day did {name} go to the {place}?", day, [d for d in DAYS if d != day]),
        (f"Where did {name} go on {day}?", f"the {place}", [f"the {p}" for p in PLACES if p != place]),
    )
    question, answer, pool = rng.choice(questions)
    order = rng_for("reading-choices", passage, question)
    choices, index = shuffle_choices(order, answer, order.sample(pool, 3))
    return {"passage": passage, "question": question, "choices": choices, "answer": index}


DOMAINS.register(
    Domain(
        name="reading",
        description="A short story and a question whose answer is in the story (4 choices).",
        item_format='{"passage": str, "question": str, "choices": [4 str], "answer": int 0-3}',
        fields=("passage", "question", "choices", "answer"),
        sample=sample,
        key=lambda item: item["passage"] + "\n" + item["question"],
        render=lambda item: (
            mc_prompt(f"{item['passage']}\nQuestion: {item['question']}", item["choices"]),
            f" {item['choices'][item['answer']]}",
        ),
    )
)
