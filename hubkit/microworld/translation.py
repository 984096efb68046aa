"""English → Veldran, a synthetic language with a fixed lexicon and grammar.

Grammar: subject, then ``ko`` and the object, then the verb (SOV); adjectives
follow their noun; articles vanish; plural nouns take the suffix ``-en``.
Example: "the big dog sees the small cats" → "vup gor ko miroen nin vek".
"""
from __future__ import annotations

import random

from hubkit.microworld._registry import DOMAINS, Domain, Item

NOUNS = {
    "dog": "vup", "cat": "miro", "bird": "tiki", "fish": "sulo", "child": "bano",
    "farmer": "kelo", "horse": "duma", "frog": "rapa", "goat": "meki", "king": "tolo",
}
PLURALS = {"child": "children", "fish": "fish"}
ADJECTIVES = {"big": "gor", "small": "nin", "red": "rasa", "blue": "belu", "old": "oma", "happy": "jali"}
VERBS = {"see": "vek", "like": "lum", "follow": "tap", "help": "siv", "find": "fen"}
OBJECT_MARK = "ko"
PLURAL_SUFFIX = "en"


def _noun_phrase(rng: random.Random) -> tuple[str, str, bool]:
    noun = rng.choice(sorted(NOUNS))
    adjective = rng.choice([None, *sorted(ADJECTIVES)])
    plural = rng.random() < 0.3
    english_noun = PLURALS.get(noun, noun + "s") if plural else noun
    target_noun = NOUNS[noun] + (PLURAL_SUFFIX if plural else "")
    english = " ".join(w for w in ("the", adjective, english_noun) if w)
    target = " ".join(w for w in (target_noun, ADJECTIVES.get(adjective or "")) if w)
    return english, target, plural


def sample(rng: random.Random) -> Item:
    subj_en, subj_tg, subj_plural = _noun_phrase(rng)
    obj_en, obj_tg, _ = _noun_phrase(rng)
    verb = rng.choice(sorted(VERBS))
    verb_en = verb if subj_plural else verb + "s"
    return {
        "source": f"{subj_en} {verb_en} {obj_en}",
        "target": f"{subj_tg} {OBJECT_MARK} {obj_tg} {VERBS[verb]}",
    }


def lexicon_texts() -> list[str]:
    """Dictionary sentences for the pretraining corpus (the grammar is only shown by example)."""
    words = {**NOUNS, **ADJECTIVES, **VERBS}
    return [f"In Veldran, the word for {en} is {tg}." for en, tg in words.items()]


DOMAINS.register(
    Domain(
        name="translation",
        description="Translate short English sentences into Veldran, the invented language of the micro-world.",
        item_format='{"source": English str, "target": Veldran str}',
        fields=("source", "target"),
        sample=sample,
        key=lambda item: item["source"],
        render=lambda item: (f"English: {item['source']}\nVeldran:", f" {item['target']}"),
    )
)
