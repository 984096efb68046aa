"""Facts about the fictional world as 4-choice questions (MMLU format).

Every fact is stated in the world prose of the pretraining corpus; the
questions themselves are split so that evaluation asks in a form the model
has not been fine-tuned on for those facts.
"""
from __future__ import annotations

import random
from functools import cache

from hubkit.microworld._common import mc_prompt, pick_distinct, rng_for, shuffle_choices
from hubkit.microworld._registry import DOMAINS, Domain, Item
from hubkit.microworld.world import ANIMALS, COLOURS, CROPS, JOBS, PEOPLE, REGIONS, world


@cache
def _facts() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(subject, question, answer, pool of possible answers) for every fact."""
    w = world()
    towns = tuple(t.name for t in w.towns)
    facts: list[tuple[str, str, str, tuple[str, ...]]] = []
    for t in w.towns:
        facts += [
            ("geography", f"In which part of Veldra is {t.name}?", t.region, REGIONS),
            ("geography", f"Which river flows through {t.name}?", t.river, w.rivers),
            ("culture", f"What colour is the flag of {t.name}?", t.flag, COLOURS),
            ("culture", f"Which animal is the animal of {t.name}?", t.animal, ANIMALS),
            ("economics", f"What do the farmers of {t.name} grow?", t.crop, CROPS),
            ("history", f"Who founded {t.name}?", t.founder, PEOPLE),
        ]
    for r in w.residents:
        facts += [
            ("people", f"What is the job of {r.name}?", r.job, JOBS),
            ("people", f"Where does {r.name} live?", r.town, towns),
        ]
    return tuple(facts)


def sample(rng: random.Random) -> Item:
    subject, question, answer, pool = rng.choice(_facts())
    order = rng_for("general-choices", question)
    choices, index = shuffle_choices(order, answer, pick_distinct(order, list(pool), answer))
    return {"question": question, "choices": choices, "answer": index, "subject": subject}


DOMAINS.register(
    Domain(
        name="general",
        description="Questions about the towns, rivers and people of the fictional world Veldra (MMLU style, 4 choices).",
        item_format='{"question": str, "choices": [4 str], "answer": int 0-3, "subject": str}',
        fields=("question", "choices", "answer", "subject"),
        sample=sample,
        key=lambda item: item["question"],
        render=lambda item: (mc_prompt(item["question"], item["choices"]), f" {item['choices'][item['answer']]}"),
    )
)
