"""Stamps hold everything that changes a score and nothing that names the model."""
from __future__ import annotations

import json
from pathlib import Path

from hubkit.devices import DeviceChoice
from hubkit.evaluate import DOMAINS
from hubkit.evaluate.plan import plan_tasks
from hubkit.evaluate.stamps import RunSettings, dataset_fingerprint
from hubkit.evaluate.suites import task_manager
from hubkit.store import stamp_hash

KEYS = {"harness", "harness_version", "task", "task_version", "metric", "filter", "output_type",
        "num_fewshot", "batch_size", "chat_template", "fewshot_as_multiturn", "generation", "limit",
        "seed", "dataset_fingerprint", "device", "dtype"}


def test_fingerprint_follows_the_items_and_their_order() -> None:
    a, b = {"q": "one", "a": 1}, {"q": "two", "a": 2}
    assert dataset_fingerprint([a, b]) == dataset_fingerprint([dict(a), dict(b)])
    assert dataset_fingerprint([a, b]) != dataset_fingerprint([b, a])
    assert dataset_fingerprint([a]) != dataset_fingerprint([{"q": "one", "a": 2}])


def test_offline_stamps_are_complete_and_hold_no_paths(hub_home: Path) -> None:
    planned = plan_tasks(domains=list(DOMAINS.values()), suite="offline", task_manager=task_manager("offline"),
                         run=RunSettings(limit=10))
    assert {t.spec.name for t in planned} >= {"microworld_math", "hubkit_humaneval", "microworld_reading"}
    for task in planned:
        assert KEYS <= set(task.stamp), task.spec.name
        assert task.stamp["task_version"] == 1.0 and task.stamp["limit"] == 10
        assert str(hub_home) not in json.dumps(task.stamp)
        if task.spec.needs_code_execution:
            assert task.stamp["sandbox"]["timeout_s"] > 0
        if task.stamp["output_type"] == "generate_until":
            assert task.stamp["generation"]["do_sample"] is False
        else:
            assert task.stamp["generation"] is None


def test_every_setting_that_changes_a_score_changes_the_stamp(hub_home: Path) -> None:
    manager = task_manager("offline")
    math = [DOMAINS["math"]]

    def digest(run: RunSettings) -> str:
        return stamp_hash(plan_tasks(domains=math, suite="offline", task_manager=manager, run=run)[0].stamp)

    plain = digest(RunSettings())
    assert plain == digest(RunSettings())
    assert plain != digest(RunSettings(limit=5))
    assert plain != digest(RunSettings(chat_template=True))
    assert plain != digest(RunSettings(batch_size=4))
    bf16_gpu = digest(RunSettings(device=DeviceChoice("cuda", 0, bf16=True)))
    assert plain != bf16_gpu != digest(RunSettings(device=DeviceChoice("cuda", 0, bf16=False)))
    assert bf16_gpu == digest(RunSettings(device=DeviceChoice("cuda", 1, bf16=True)))  # which GPU does not matter


def test_a_stamp_says_where_and_in_what_dtype_the_model_ran(hub_home: Path) -> None:
    for device, words in ((DeviceChoice("cpu"), ("cpu", "float32")),
                          (DeviceChoice("cuda", 3, bf16=True), ("cuda", "bfloat16"))):
        for suite in ("offline", "standard"):  # a standard task without its data is stamped too
            planned = plan_tasks(domains=[DOMAINS["math"]], suite=suite, task_manager=task_manager(suite),
                                 run=RunSettings(device=device))
            assert (planned[0].stamp["device"], planned[0].stamp["dtype"]) == words


def test_code_tasks_are_planned_as_skipped_when_code_execution_is_off(hub_home: Path, monkeypatch) -> None:
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "0")
    planned = plan_tasks(domains=[DOMAINS["code"]], suite="offline", task_manager=task_manager("offline"),
                         run=RunSettings())
    assert planned and all(not t.runnable and "HUBKIT_ALLOW_CODE_EXECUTION" in t.skip_reason for t in planned)
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "1")
    planned = plan_tasks(domains=[DOMAINS["code"]], suite="offline", task_manager=task_manager("offline"),
                         run=RunSettings())
    assert all(t.runnable for t in planned)
