"""The domain registry, the task YAMLs and the offline task folder."""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
import yaml

from hubkit.errors import Conflict, NotFound
from hubkit.evaluate import DOMAINS, SUITES, EvalDomain, TaskSpec
from hubkit.evaluate.registry import Registry
from hubkit.evaluate.sources import HumanEvalProblems
from hubkit.evaluate.suites import TASKS_DIR, offline_specs, task_folder, task_manager

REQUIRED = {"math", "code", "general", "reasoning", "translation", "reading"}


def test_every_required_domain_is_registered_with_both_suites() -> None:
    assert REQUIRED <= set(DOMAINS)
    for domain in DOMAINS.values():
        assert domain.offline and domain.standard, domain.name
        assert domain.description.endswith(".") and domain.direction in {"higher", "lower"}
        assert domain.metric == domain.offline[0].metric


def test_registry_refuses_duplicates_and_names_the_known_entries() -> None:
    registry: Registry[EvalDomain] = Registry("evaluation domain")
    entry = EvalDomain("poetry", "Poetry", "Writing verse.", offline=(TaskSpec("t", "acc"),),
                       standard=(TaskSpec("t", "acc"),))
    registry.register(entry)
    with pytest.raises(Conflict):
        registry.register(entry)
    with pytest.raises(NotFound, match="poetry"):
        registry["prose"]
    assert list(registry) == ["poetry"]


def _own_yamls() -> dict[str, dict]:
    out = {}
    for path in TASKS_DIR.glob("*.yaml"):
        if path.name.startswith("_"):
            continue
        text = path.read_text().replace("!function", "")
        out[path.stem] = yaml.safe_load(text)
    return out


def test_every_offline_task_has_a_versioned_yaml_and_every_yaml_a_registry_entry() -> None:
    yamls = _own_yamls()
    offline_names = {spec.name for d in DOMAINS.values() for spec in d.offline}
    assert set(yamls) == offline_names
    for name, config in yamls.items():
        assert config["task"] == name
        assert isinstance(config["metadata"]["version"], float)
        assert config["dataset_path"] == "json"
        assert config["dataset_kwargs"]["data_files"]["test"] == f"@DATA_DIR@/{name}.jsonl"
        assert config["dataset_kwargs"]["cache_dir"] == "@CACHE_DIR@"


def test_lm_eval_loads_every_offline_task_from_the_rendered_folder(hub_home: Path) -> None:
    manager = task_manager("offline")
    for domain in DOMAINS.values():
        for spec in domain.offline:
            loaded = manager.load([spec.name])
            task = loaded["tasks"][spec.name]
            assert len(task.eval_docs) == _expected_items(spec)
            assert task.config.metadata["version"] >= 1.0


def _expected_items(spec: TaskSpec) -> int:
    return 164 if isinstance(spec.source, HumanEvalProblems) else spec.source.n


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "data").iterdir())}


def test_task_data_is_deterministic_and_written_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_HOME", str(tmp_path / "one"))
    first = task_folder()
    monkeypatch.setenv("HUBKIT_HOME", str(tmp_path / "two"))
    second = task_folder()
    assert first.name == second.name
    assert _digests(first) == _digests(second)
    assert set(_digests(first)) == {f"{s.name}.jsonl" for s in offline_specs()}
    assert str(second / "data") in (second / "microworld_math.yaml").read_text()


def test_two_processes_preparing_the_folder_at_once_both_get_a_complete_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_HOME", str(tmp_path))
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(task_folder())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1]
    assert len(list(results[0].parent.iterdir())) == 1  # no staging folder left behind
    assert len(_digests(results[0])) == len(offline_specs())


def test_suites_are_registered() -> None:
    assert set(SUITES) == {"offline", "standard"}
    with pytest.raises(NotFound):
        SUITES["nightly"]


@pytest.mark.slow
def test_standard_task_names_exist_in_lm_eval(hub_home: Path) -> None:
    manager = task_manager("standard")
    for domain in DOMAINS.values():
        for spec in domain.standard:
            assert spec.name in manager.all_tasks, spec.name


def test_math_choices_hold_the_right_worked_answer_and_self_consistent_wrong_ones(tmp_path: Path) -> None:
    import json
    import re

    from hubkit.evaluate.sources import MicroworldMathChoices
    from hubkit.microworld import items

    MicroworldMathChoices(30).write(tmp_path / "choices.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "choices.jsonl").read_text().splitlines()]
    gold = items("math", split="eval", n=30)
    equation = re.compile(r"(-?\d+) ([+*-]) (-?\d+) = (-?\d+)")
    for row, item in zip(rows, gold, strict=True):
        assert row["question"] == item["question"]
        assert row["choices"][row["answer"]] == item["answer"]
        assert len(set(row["choices"])) == 4
        for choice in row["choices"]:
            steps = equation.findall(choice)
            assert choice.endswith(f"#### {steps[-1][3]}")
        wrong_ops = [c for c in row["choices"] if equation.search(c)[2] != equation.search(item["answer"])[2]]
        assert len(wrong_ops) == 2
    assert len({row["answer"] for row in rows}) == 4  # the right answer is not always in one place
