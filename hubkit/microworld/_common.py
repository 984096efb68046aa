"""Seeding and split assignment shared by every domain.

Seeds are derived with sha256 rather than Python's ``hash`` so that items are
the same in every process and on every Python build.
"""
from __future__ import annotations

import hashlib
import random

SPLITS = ("train", "eval", "pretrain")
# Share of the item space (out of 100 hash buckets) that belongs to each split.
# Evaluation gets a fifth; pretraining a thin slice; fine-tuning the rest.
_SPLIT_BUCKETS = {"eval": range(0, 20), "pretrain": range(20, 35), "train": range(35, 100)}


def digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()


def rng_for(*parts: object) -> random.Random:
    """A random generator fully determined by ``parts``."""
    return random.Random(int.from_bytes(digest(*parts)[:8], "big"))


def split_of(domain: str, key: str) -> str:
    """The one split a canonical item belongs to (a pure function of its key)."""
    bucket = int.from_bytes(digest("split", domain, key)[:4], "big") % 100
    for name, buckets in _SPLIT_BUCKETS.items():
        if bucket in buckets:
            return name
    raise AssertionError("split buckets must cover 0..99")  # pragma: no cover


def pick_distinct(rng: random.Random, pool: list[str], correct: str, k: int = 3) -> list[str]:
    """``k`` distractors from ``pool`` different from ``correct``."""
    others = [p for p in pool if p != correct]
    return rng.sample(others, k)


def shuffle_choices(rng: random.Random, correct: str, distractors: list[str]) -> tuple[list[str], int]:
    choices = [correct, *distractors]
    rng.shuffle(choices)
    return choices, choices.index(correct)


LETTERS = "ABCD"


def mc_prompt(question: str, choices: list[str]) -> str:
    """MMLU-style question with lettered choices, ending in ``Answer:``."""
    lines = [question] + [f"{LETTERS[i]}. {c}" for i, c in enumerate(choices)]
    return "\n".join(lines) + "\nAnswer:"
