"""The micro-world: deterministic generated domains a tiny model can learn.

Six domains (math, code, general, reasoning, translation, reading) are drawn
from one fictional world with a small vocabulary. Every item belongs to exactly
one split, decided by hashing its canonical key, so fine-tuning data,
pretraining text and evaluation items never overlap whatever the seeds.

Public API (keyword-only): ``DOMAINS``, ``items``, ``pretraining_corpus``,
``example_dataset``, ``write_eval_split``.
"""
from __future__ import annotations

from hubkit.microworld import (  # noqa: F401 - importing registers the domains
    code_tasks,
    general_facts,
    math_problems,
    reading,
    reasoning,
    translation,
)
from hubkit.microworld._common import SPLITS
from hubkit.microworld._registry import DOMAINS, Domain, DomainRegistry, Item
from hubkit.microworld.api import (
    FORMATS,
    example_dataset,
    items,
    pretraining_corpus,
    write_eval_split,
)

__all__ = [
    "DOMAINS",
    "FORMATS",
    "SPLITS",
    "Domain",
    "DomainRegistry",
    "Item",
    "example_dataset",
    "items",
    "pretraining_corpus",
    "write_eval_split",
]
