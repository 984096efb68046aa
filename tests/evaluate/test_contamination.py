"""Benchmark items found in training data are detected, whatever the dataset format."""
from __future__ import annotations

import pytest

from hubkit.data import prepare_records
from hubkit.evaluate.contamination import count_overlap, eval_item_hashes
from hubkit.microworld import DOMAINS as WORLD
from hubkit.microworld import example_dataset, items


def _row(prompt: str, response: str, fmt: str) -> dict:
    """How an uploaded file would hold the item in each format."""
    return {
        "text": {"text": prompt + response},
        "instruction": {"instruction": prompt, "response": response.strip()},
        "prompt_completion": {"prompt": prompt, "completion": response},
        "chat": {"messages": [{"role": "user", "content": prompt},
                              {"role": "assistant", "content": response.strip()}]},
    }[fmt]


def _shown(domain: str, item: dict) -> dict:
    prompt, response = WORLD[domain].render(item)
    return {"shown_prompt": prompt, "shown_target": response}


@pytest.mark.parametrize("fmt", ["text", "instruction", "prompt_completion", "chat"])
@pytest.mark.parametrize("domain", ["math", "general", "translation"])
def test_eval_items_copied_into_training_data_are_found(domain: str, fmt: str) -> None:
    evaluated = items(domain, split="eval", n=12)
    copied = [_row(*WORLD[domain].render(it), fmt) for it in evaluated[:5]]
    hashes = set(prepare_records(records=copied, name="copied", format=fmt).item_hashes())
    found = count_overlap(hashes, [eval_item_hashes(it, **_shown(domain, it)) for it in evaluated])
    assert found == 5


def test_whitespace_does_not_hide_a_copy_and_raw_fields_are_matched_too() -> None:
    evaluated = items("math", split="eval", n=4)
    rows = [{"question": "  " + it["question"].replace(" ", "   "), "answer": it["answer"] + "\n"}
            for it in evaluated[:2]]
    hashes = set(prepare_records(records=rows, name="gsm-like", format="instruction").item_hashes())
    assert count_overlap(hashes, [eval_item_hashes(it) for it in evaluated]) == 2


def test_the_training_split_does_not_overlap_the_evaluation_split() -> None:
    rows = example_dataset("math", fmt="instruction", n=200)
    hashes = set(prepare_records(records=rows, name="train", format="instruction").item_hashes())
    evaluated = items("math", split="eval", n=100)
    assert count_overlap(hashes, [eval_item_hashes(it, **_shown("math", it)) for it in evaluated]) == 0
    assert count_overlap(set(), [eval_item_hashes(it) for it in evaluated]) == 0
