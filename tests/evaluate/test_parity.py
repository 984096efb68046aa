"""hubkit's scores are lm-eval's scores: the same run through the `lm_eval` command line agrees."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hubkit.archive import open_archive
from hubkit.evaluate import DOMAINS, evaluate_model
from hubkit.evaluate.models import base_model_location
from hubkit.evaluate.suites import task_folder
from tests.evaluate.conftest import BASE_KEY, EvalWorld

DOMAINS_CHECKED = ["math", "general", "translation", "code"]
LIMIT = 6


@pytest.mark.slow
def test_scores_equal_the_lm_eval_command_line_metric_by_metric(
        world: EvalWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "1")
    run = world.finished_run()
    ours = evaluate_model(store=world.store, model_id=run.id, domains=DOMAINS_CHECKED, limit=LIMIT)
    assert all(s.status == "scored" for s in ours.scores), [(s.task, s.reason) for s in ours.scores]

    base, _ = base_model_location(world.store.get_base_model(BASE_KEY))
    adapter = open_archive().get_dir(run.artifacts["adapter"], tmp_path / "adapter")
    tasks = [spec.name for d in DOMAINS_CHECKED for spec in DOMAINS[d].offline]
    lm_eval = Path(sys.executable).with_name("lm_eval")
    command = [str(lm_eval), "--model", "hf", "--model_args", f"pretrained={base},peft={adapter}", "--device", "cpu",
               "--tasks", ",".join(tasks), "--include_path", str(task_folder()), "--limit", str(LIMIT),
               "--batch_size", "16", "--apply_chat_template", "--fewshot_as_multiturn", "true",
               "--confirm_run_unsafe_code", "--output_path", str(tmp_path / "out")]
    assert ours.scores[0].stamp["chat_template"] is True  # the stand-ins are instruct models
    done = subprocess.run(command, env=os.environ.copy(), capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())

    assert sorted(s.task for s in ours.scores) == sorted(tasks)
    for score in ours.scores:
        spec = next(t for t in DOMAINS[score.domain].offline if t.name == score.task)
        theirs = results["results"][score.task]
        assert score.value == theirs[spec.result_key], score.task
        their_stderr = theirs[f"{spec.metric}_stderr,{spec.filter}"]
        assert score.stderr == pytest.approx(their_stderr, rel=1e-12, abs=1e-12), score.task
        assert score.n_samples == results["n-samples"][score.task]["effective"]
        assert score.stamp["task_version"] == results["versions"][score.task]
        assert score.stamp["num_fewshot"] == results["n-shot"][score.task]
