"""The standard suite offline: lm-eval's own task definitions over a project-written Hugging Face cache."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.evaluate.conftest import BASE_KEY, EvalWorld
from tests.fixtures.hf_datasets import write_standard_cache

LIMIT = 2


@pytest.fixture(scope="session")
def standard_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    cache = tmp_path_factory.mktemp("hf-datasets")
    return cache, write_standard_cache(cache)


@pytest.fixture
def with_standard_data(standard_cache: tuple[Path, dict[str, int]],
                       monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The fixture cache as this process's ``datasets`` cache; returns each task's row count."""
    import datasets.config

    cache, rows = standard_cache
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    return rows


def _expected_samples(task: str, rows: dict[str, int]) -> int:
    subtasks = 57 if task == "mmlu" else 1  # every mmlu subject holds one row
    return subtasks * min(LIMIT, rows[task] // subtasks)


@pytest.mark.slow
def test_every_standard_task_is_scored_from_the_fixture_cache(world: EvalWorld,
                                                              with_standard_data: dict[str, int]) -> None:
    from hubkit.evaluate import evaluate_base

    report = evaluate_base(store=world.store, base_key=BASE_KEY, suite="standard", limit=LIMIT)
    by_task = {s.task: s for s in report.scores}
    for task, rows in with_standard_data.items():
        score = by_task[task]
        assert score.status == "scored", (task, score.reason)
        assert score.value is not None and score.n_samples == _expected_samples(task, with_standard_data), task
        assert score.stamp["dataset_fingerprint"]
    assert by_task["hubkit_humaneval"].status == "skipped"  # code execution is off in tests
    assert report.model_loads == 1
