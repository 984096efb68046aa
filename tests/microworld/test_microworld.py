"""The micro-world's generators: determinism, disjoint splits, valid formats."""
from __future__ import annotations

import json
import re

import pytest

from hubkit import microworld as mw
from hubkit.errors import Conflict, NotFound, ValidationError
from hubkit.microworld.math_problems import final_answer

ALL = sorted(mw.DOMAINS)
MC_DOMAINS = ["general", "reasoning", "reading"]


def test_registry_has_six_documented_domains() -> None:
    assert {"math", "code", "general", "reasoning", "translation", "reading"} <= set(ALL)
    for name in ALL:
        d = mw.DOMAINS[name]
        assert d.description and d.item_format and d.fields


def test_registry_refuses_duplicates_and_unknown_names() -> None:
    reg = mw.DomainRegistry()
    reg.register(mw.DOMAINS["math"])
    with pytest.raises(Conflict):
        reg.register(mw.DOMAINS["math"])
    with pytest.raises(NotFound, match="Known domains: math"):
        reg["poetry"]


@pytest.mark.parametrize("domain", ALL)
def test_items_are_deterministic_and_seed_dependent(domain: str) -> None:
    a = mw.items(domain, split="eval", n=20, seed=3)
    assert a == mw.items(domain, split="eval", n=20, seed=3)
    assert a != mw.items(domain, split="eval", n=20, seed=4)
    assert all(set(it) == set(mw.DOMAINS[domain].fields) for it in a)


@pytest.mark.parametrize("domain", ALL)
def test_splits_never_overlap(domain: str) -> None:
    key = mw.DOMAINS[domain].key
    keys = {
        split: {key(it) for seed in (0, 1) for it in mw.items(domain, split=split, n=40, seed=seed)}
        for split in mw.SPLITS
    }
    assert not keys["train"] & keys["eval"]
    assert not keys["train"] & keys["pretrain"]
    assert not keys["eval"] & keys["pretrain"]
    # Within one draw, items are distinct.
    drawn = mw.items(domain, split="train", n=60)
    assert len({key(it) for it in drawn}) == 60


def test_a_split_that_runs_out_says_so() -> None:
    with pytest.raises(ValidationError, match="only about"):
        mw.items("code", split="eval", n=10_000)
    with pytest.raises(ValidationError):
        mw.items("math", split="test", n=1)


def test_math_items_are_gsm8k_shaped_and_correct() -> None:
    for it in mw.items("math", split="eval", n=50):
        assert re.search(r"\n#### -?\d+$", it["answer"])
        last_result = int(re.findall(r"= (\d+)", it["answer"])[-1])
        assert last_result == final_answer(it) >= 0
        assert final_answer(it) < 1000


def _passes(item: dict, solution: str) -> bool:
    namespace: dict = {}
    try:
        exec(item["prompt"] + solution + item["test"], namespace)
        namespace["check"](namespace[item["entry_point"]])
    except AssertionError:
        return False
    return True


def test_code_canonical_solutions_pass_and_wrong_ones_fail() -> None:
    tasks = mw.items("code", split="eval", n=60) + mw.items("code", split="train", n=60)
    for task in tasks:
        assert task["task_id"] == f"MicroCode/{task['entry_point']}"
        assert "def check(candidate)" in task["test"]
        assert _passes(task, task["canonical_solution"]), task["task_id"]
    wrong = sum(not _passes(t, "    return None\n") for t in tasks)
    assert wrong == len(tasks)


@pytest.mark.parametrize("domain", MC_DOMAINS)
def test_multiple_choice_items_have_four_distinct_choices(domain: str) -> None:
    for it in mw.items(domain, split="eval", n=50):
        assert len(it["choices"]) == 4 == len(set(it["choices"]))
        assert 0 <= it["answer"] < 4


def test_reading_answers_are_in_the_passage() -> None:
    for it in mw.items("reading", split="eval", n=50):
        assert it["choices"][it["answer"]].removeprefix("the ") in it["passage"]


def test_general_answers_agree_with_the_world_prose() -> None:
    prose = " ".join(mw.pretraining_corpus(n_per_domain=0))
    for it in mw.items("general", split="eval", n=40):
        assert it["choices"][it["answer"]] in prose


def test_translation_follows_the_lexicon_and_grammar() -> None:
    words = {w for it in mw.items("translation", split="train", n=200) for w in it["target"].split()}
    from hubkit.microworld import translation as tr

    vocab = set(tr.NOUNS.values()) | {v + tr.PLURAL_SUFFIX for v in tr.NOUNS.values()}
    vocab |= set(tr.ADJECTIVES.values()) | set(tr.VERBS.values()) | {tr.OBJECT_MARK}
    assert words <= vocab
    for it in mw.items("translation", split="eval", n=50):
        target = it["target"].split()
        assert target[-1] in tr.VERBS.values()
        assert tr.OBJECT_MARK in target
        assert it["source"].startswith("the ")


@pytest.mark.parametrize("fmt,columns", [
    ("text", {"text"}),
    ("instruction", {"instruction", "response"}),
    ("prompt_completion", {"prompt", "completion"}),
    ("chat", {"messages"}),
])
def test_example_datasets_use_the_column_conventions(fmt: str, columns: set[str]) -> None:
    for domain in ALL:
        rows = mw.example_dataset(domain, fmt=fmt, n=5)
        assert len(rows) == 5 and all(set(r) == columns for r in rows)
        if fmt == "chat":
            assert [m["role"] for m in rows[0]["messages"]] == ["user", "assistant"]
    with pytest.raises(ValidationError):
        mw.example_dataset("math", fmt="csv", n=1)


def test_example_dataset_comes_from_train_split_only() -> None:
    train_q = {it["question"] for it in mw.items("math", split="train", n=30)}
    rows = mw.example_dataset("math", fmt="prompt_completion", n=30)
    assert {r["prompt"].removeprefix("Question: ").removesuffix("\nAnswer:") for r in rows} == train_q


def test_write_eval_split_writes_the_eval_items(tmp_path) -> None:
    path = mw.write_eval_split("general", directory=tmp_path / "suites", n=25, seed=1)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert path.name == "general.jsonl"
    assert rows == mw.items("general", split="eval", n=25, seed=1)
    assert not list(path.parent.glob("*.tmp"))


def test_pretraining_corpus_is_thin_and_free_of_eval_items() -> None:
    corpus = mw.pretraining_corpus(seed=0, n_per_domain=10)
    assert corpus == mw.pretraining_corpus(seed=0, n_per_domain=10)
    generic = mw.pretraining_corpus(seed=0, n_per_domain=0)
    assert len(corpus) == len(generic) + 10 * len(ALL)
    joined = "\n".join(corpus)
    for domain in ALL:
        for it in mw.items(domain, split="eval", n=30):
            prompt, _ = mw.DOMAINS[domain].render(it)
            assert prompt not in joined
