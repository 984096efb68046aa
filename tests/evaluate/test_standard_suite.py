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
    for task in with_standard_data:
        score = by_task[task]
        assert score.status == "scored", (task, score.reason)
        assert score.value is not None and score.n_samples == _expected_samples(task, with_standard_data), task
        assert score.stamp["dataset_fingerprint"]
    assert by_task["hubkit_humaneval"].status == "skipped"  # code execution is off in tests
    assert report.model_loads == 1


@pytest.mark.slow
def test_the_worker_scores_both_suites_and_skips_a_standard_task_without_data(
        world: EvalWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only GSM8K's data is here: the platform's evaluation scores it next to the offline tasks, records
    RACE as skipped with the reason, and names each score's suite; each suite's board keeps to its own."""
    import datasets.config

    from hubkit.evaluate import on_run_finished

    rows = write_standard_cache(tmp_path / "hf-datasets", ["gsm8k"])
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")
    run = world.finished_run()
    report = on_run_finished(world.store, run.id, domains=["math", "reading"], limit=LIMIT)
    assert report is not None and report.suites == ("offline", "standard")
    recorded = {e.task: e for e in world.store.list_evaluations(model_id=run.id)}
    assert set(recorded) == {"microworld_math", "microworld_math_choice", "gsm8k", "microworld_reading", "race"}
    gsm8k, race = recorded["gsm8k"], recorded["race"]
    assert gsm8k.status == "scored" and gsm8k.n_samples == min(LIMIT, rows["gsm8k"])
    assert gsm8k.stamp["suite"] == "standard" and gsm8k.delta_base is not None
    assert race.status == "skipped" and "The data for race is not on this machine" in race.skip_reason
    assert all(recorded[t].stamp["suite"] == "offline" and recorded[t].status == "scored"
               for t in ("microworld_math", "microworld_math_choice", "microworld_reading"))

    world.store.set_visibility(run.id, "public", actor="alice")
    assert [r.task for r in world.store.leaderboard(domain="math", suite="standard")] == ["gsm8k"]
    assert world.store.leaderboard(domain="math", suite="offline")[0].task.startswith("microworld_math")
    assert world.store.leaderboard(domain="reading", suite="standard") == []
