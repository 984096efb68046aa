"""Contamination guard: never score a model on items it was trained on.

A registered dataset keeps ``hubkit.data.item_hash`` of every normalised
training item (``Store.dataset_item_hashes``). A benchmark item is turned into
the training items it would be in each of the four dataset formats (text,
instruction, prompt/completion, chat), normalised the way ``hubkit.data``
normalises uploads, and hashed the same way; the item overlaps when any of
those hashes is in the training set. Whitespace differences do not hide a
copy; paraphrases are not detected.

Two prompt/response readings of each benchmark item are tried: the prompt as
the task shows it to the model with its target (how the micro-world's example
datasets are written), and the item's own question and answer fields (how a
copied GSM8K or HumanEval file looks).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hubkit.data.formats import normalise_text
from hubkit.data.hashing import item_hash

_PROMPT_FIELDS = ("question", "prompt", "source", "instruction")
_ANSWER_FIELDS = ("answer", "canonical_solution", "target", "response", "completion")


def format_items(prompt: str, response: str) -> list[dict[str, Any]]:
    """The normalised training items a (prompt, response) pair becomes in each format."""
    p, r = normalise_text(prompt), normalise_text(response)
    return [
        {"text": p + r},
        {"instruction": p, "input": "", "response": r.strip()},
        {"prompt": p, "completion": r},
        {"messages": [{"role": "user", "content": p}, {"role": "assistant", "content": r.strip()}]},
    ]


def _field_pair(doc: Mapping[str, Any]) -> tuple[str, str] | None:
    prompt = next((doc[k] for k in _PROMPT_FIELDS if isinstance(doc.get(k), str)), None)
    answer = next((doc[k] for k in _ANSWER_FIELDS if isinstance(doc.get(k), str)), None)
    if prompt is None or answer is None:
        return None
    return prompt, answer


def eval_item_hashes(doc: Mapping[str, Any], *, shown_prompt: str | None = None,
                     shown_target: str | None = None) -> set[str]:
    """Every training-item hash that would mean this benchmark item was trained on."""
    pairs: list[tuple[str, str]] = []
    if shown_prompt is not None and shown_target is not None:
        pairs.append((shown_prompt, shown_target))
    field_pair = _field_pair(doc)
    if field_pair is not None:
        pairs.append(field_pair)
    return {item_hash(item) for p, r in pairs for item in format_items(p, r)}


def count_overlap(training: set[str], items: Iterable[set[str]]) -> int:
    """How many benchmark items share at least one hash with the training data."""
    if not training:
        return 0
    return sum(1 for hashes in items if hashes & training)
