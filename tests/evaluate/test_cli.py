"""`hubkit eval` scores a run after its base model and prints or returns the scores."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubkit.cli import main
from tests.evaluate.conftest import BASE_KEY, EvalWorld


def test_eval_prints_each_task_with_its_delta(world: EvalWorld, capsys: pytest.CaptureFixture[str]) -> None:
    run = world.finished_run(name="cli-run")
    assert main(["eval", run.slug, "--domains", "general", "code", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "microworld_general" in out and "vs base" in out
    assert "skipped: Running generated code is turned off" in out
    row = next(r for r in world.store.list_evaluations(model_id=run.id) if r.task == "microworld_general")
    assert row.delta_base is not None and f"{row.value:.3f}" in out


def test_eval_of_a_base_model_as_json(world: EvalWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", BASE_KEY, "--domains", "general", "--limit", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["task"], r["status"], r["n_samples"]) for r in rows] == [("microworld_general", "scored", 2)]
    assert rows[0]["stamp"]["limit"] == 2


def test_an_unknown_model_is_a_plain_error(world: EvalWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "no-such-model"]) == 2
    assert "no run or base model called 'no-such-model'" in capsys.readouterr().err


@pytest.mark.slow
def test_standard_tasks_without_local_data_are_skipped_never_downloaded(
        world: EvalWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets.config
    import huggingface_hub.constants

    from hubkit.evaluate import evaluate_base

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # as if online
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "empty-hf-cache"))
    seen: list[bool] = []

    def during(event) -> None:  # type: ignore[no-untyped-def]
        seen.append(huggingface_hub.constants.is_offline_mode() and datasets.config.HF_HUB_OFFLINE)

    report = evaluate_base(store=world.store, base_key=BASE_KEY, domains=["math", "code"], suite="standard",
                           progress=during)
    assert seen and all(seen)
    assert huggingface_hub.constants.HF_HUB_OFFLINE is False  # switched back afterwards
    gsm8k, humaneval = report.score("math", "gsm8k"), report.score("code", "hubkit_humaneval")
    assert gsm8k.status == "skipped" and "not on this machine" in gsm8k.reason and gsm8k.value is None
    assert humaneval.status == "skipped" and "HUBKIT_ALLOW_CODE_EXECUTION" in humaneval.reason
    assert report.model_loads == 0


def test_fetch_data_lists_each_standard_dataset_and_refuses_plainly_when_offline(
        hub_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "fetch-data", "--list"]) == 0
    listing = capsys.readouterr().out
    for repo, config in [("openai/gsm8k", "main"), ("allenai/ai2_arc", "ARC-Challenge"), ("EleutherAI/race", "high"),
                         ("wmt/wmt16", "de-en"), ("allenai/winogrande", "winogrande_xl"), ("Rowan/hellaswag", ""),
                         ("cais/mmlu", "abstract_algebra"), ("cais/mmlu", "world_religions")]:
        assert any(repo in line and config in line for line in listing.splitlines()), (repo, config)
    assert "humaneval" not in listing  # its problems ship with hubkit
    assert main(["eval", "fetch-data"]) == 2
    err = capsys.readouterr().err
    assert "needs the internet, and this machine is set offline" in err and "Traceback" not in err
