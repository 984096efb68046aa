"""pass@1's predictions: what a chat model writes is scored as the code it means."""
from __future__ import annotations

import pytest

from hubkit.evaluate.code_metric import build_predictions, pass_at_1
from hubkit.microworld import items


@pytest.fixture
def task() -> dict:
    return items("code", split="eval", n=1)[0]


def _reference(task: dict) -> str:
    return f"{task['test']}\ncheck({task['entry_point']})"


def test_a_chat_answer_written_flush_left_passes(task: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "1")
    chat_answer = task["canonical_solution"].strip()  # what a chat model trained on stripped answers writes
    base_answer = task["canonical_solution"]          # a base model continues the prompt's indentation
    predictions = build_predictions([[chat_answer], [base_answer]], [task, task])
    assert pass_at_1([_reference(task)] * 2, predictions) == 1.0


def test_a_wrong_answer_still_fails(task: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "1")
    predictions = build_predictions([["return None"]], [task])
    assert pass_at_1([_reference(task)], predictions) == 0.0
