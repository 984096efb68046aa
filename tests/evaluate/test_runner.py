"""evaluate_model / evaluate_base on a tiny real model: scores, stamps, skips, refusals, deltas."""
from __future__ import annotations

from pathlib import Path

import pytest

from hubkit.data import prepare_records
from hubkit.devices import choose_device
from hubkit.errors import EvaluationError
from hubkit.evaluate import evaluate_base, evaluate_model
from hubkit.evaluate.models import has_chat_template
from hubkit.evaluate.runner import EvalProgress
from hubkit.microworld import DOMAINS as WORLD
from hubkit.microworld import items
from tests.evaluate.conftest import BASE_KEY, EvalWorld

QUICK = {"domains": ["math", "general"], "limit": 4}


def test_a_run_is_scored_and_every_task_is_recorded_with_its_stamp(world: EvalWorld) -> None:
    run = world.finished_run()
    events: list[EvalProgress] = []
    report = evaluate_model(store=world.store, model_id=run.id, progress=events.append, **QUICK)

    assert report.model_loads == 1
    assert [(s.domain, s.task, s.status) for s in report.scores] == [
        ("math", "microworld_math", "scored"), ("math", "microworld_math_choice", "scored"),
        ("general", "microworld_general", "scored")]
    general = report.score("general")
    assert general.n_samples == 4 and 0 <= general.value <= 1 and general.stderr is not None
    assert [(e.done, e.domain) for e in events] == [(0, None), (1, "math"), (2, "general")]
    assert events[-1].done == events[-1].total == 2

    rows = world.store.list_evaluations(model_id=run.id)
    assert {(r.task, r.status, r.n_samples) for r in rows} == {
        ("microworld_math", "scored", 4), ("microworld_math_choice", "scored", 4), ("microworld_general", "scored", 4)}
    scores = world.store.get_run(run.id).benchmark_scores
    assert scores["general"]["microworld_general"]["value"] == general.value
    assert scores["general"]["microworld_general"]["stamp"]["limit"] == 4
    stamp = scores["general"]["microworld_general"]["stamp"]
    here = choose_device()  # HUBKIT_DEVICE on this machine: where the model was loaded, and in what
    assert (stamp["device"], stamp["dtype"]) == (here.kind, here.dtype_name)


def test_base_and_run_share_stamps_so_deltas_are_computed(world: EvalWorld) -> None:
    base = evaluate_base(store=world.store, base_key=BASE_KEY, **QUICK)
    run = world.finished_run()
    model = evaluate_model(store=world.store, model_id=run.id, **QUICK)
    for b, m in zip(base.scores, model.scores, strict=True):
        assert b.stamp == m.stamp
    rows = {r.task: r for r in world.store.list_evaluations(model_id=run.id)}
    for b in base.scores:
        assert rows[b.task].delta_base is not None
        assert rows[b.task].delta_base == pytest.approx(rows[b.task].value - b.value)


def test_a_fork_gets_a_delta_against_its_parent(world: EvalWorld) -> None:
    parent = world.finished_run(name="parent")
    evaluate_model(store=world.store, model_id=parent.id, domains=["general"], limit=4)
    child = world.finished_run(name="child", parent=parent.id)
    evaluate_model(store=world.store, model_id=child.id, domains=["general"], limit=4)
    row = world.store.list_evaluations(model_id=child.id)[0]
    assert row.delta_parent == pytest.approx(0.0)  # same adapter, same stamp


def test_the_base_model_is_scored_once_per_stamp(world: EvalWorld) -> None:
    first = evaluate_base(store=world.store, base_key=BASE_KEY, **QUICK)
    again = evaluate_base(store=world.store, base_key=BASE_KEY, **QUICK)
    assert first.model_loads == 1 and again.model_loads == 0
    assert all(s.cached for s in again.scores)
    assert [s.value for s in again.scores] == [s.value for s in first.scores]
    assert len(world.store.list_evaluations(base_model=BASE_KEY)) == 3
    other = evaluate_base(store=world.store, base_key=BASE_KEY, domains=["general"], limit=3)
    assert other.model_loads == 1  # a different limit is a different stamp


def test_code_is_recorded_as_skipped_with_the_reason_when_execution_is_off(
        world: EvalWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "0")
    run = world.finished_run()
    report = evaluate_model(store=world.store, model_id=run.id, domains=["code"], limit=2)
    assert report.model_loads == 0
    rows = world.store.list_evaluations(model_id=run.id)
    assert {r.task for r in rows} == {"microworld_code", "hubkit_humaneval"}
    for row in rows:
        assert row.status == "skipped" and row.value is None and row.n_samples == 0
        assert "HUBKIT_ALLOW_CODE_EXECUTION=1" in row.skip_reason
    summary = world.store.get_run(run.id).benchmark_scores["code"]["hubkit_humaneval"]
    assert summary["status"] == "skipped" and summary["value"] is None


def test_code_is_scored_in_the_sandbox_when_execution_is_on(world: EvalWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "1")
    run = world.finished_run()
    report = evaluate_model(store=world.store, model_id=run.id, domains=["code"], limit=2)
    for score in report.scores:
        assert score.status == "scored" and score.n_samples == 2 and 0 <= score.value <= 1
        assert score.stamp["sandbox"]["timeout_s"] > 0


def test_tasks_overlapping_the_training_data_are_refused_with_the_overlap(world: EvalWorld) -> None:
    leaked = items("math", split="eval", n=7)
    rows = [{"instruction": WORLD["math"].render(it)[0], "response": it["answer"]} for it in leaked]
    prepared = prepare_records(records=rows, name="leaky", format="instruction")
    dataset = world.store.register_dataset(owner="alice", **prepared.record_fields())
    parent = world.finished_run(name="leaky", dataset_id=dataset.id)
    child = world.finished_run(name="clean-child", parent=parent.id)  # inherits its parent's data

    report = evaluate_model(store=world.store, model_id=child.id, **QUICK)
    math, general = report.score("math"), report.score("general")
    assert math.status == "refused" and math.overlap == 7 and math.value is None
    assert "7 of the 100 items" in math.reason
    assert general.status == "scored"
    row = next(r for r in world.store.list_evaluations(model_id=child.id) if r.task == "microworld_math")
    assert row.status == "refused" and "7 of the 100" in row.skip_reason


def test_instruct_stand_ins_are_scored_with_their_chat_template(world: EvalWorld) -> None:
    report = evaluate_base(store=world.store, base_key=BASE_KEY, domains=["general"], limit=3)
    assert report.score("general").status == "scored"
    assert report.score("general").stamp["chat_template"] is True
    world.record_base(instruct=False)  # a chat template alone does not make a model instruct
    plain = evaluate_base(store=world.store, base_key=BASE_KEY, domains=["general"], limit=3)
    assert plain.score("general").stamp["chat_template"] is False
    assert plain.model_loads == 1  # a different stamp, so not the cached score


def test_a_tokenizer_without_a_chat_template_is_not_instruct(tmp_path: Path, standins_home: Path) -> None:
    from transformers import AutoTokenizer

    standin = standins_home / "models" / "standins" / "llama3"
    assert has_chat_template(standin)
    tokenizer = AutoTokenizer.from_pretrained(standin)
    tokenizer.chat_template = None
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / "chat_template.jinja").unlink(missing_ok=True)
    assert not has_chat_template(tmp_path)


def test_a_run_without_an_adapter_cannot_be_evaluated(world: EvalWorld) -> None:
    run = world.finished_run(adapter=False, outcome="failure")
    with pytest.raises(EvaluationError, match="no adapter"):
        evaluate_model(store=world.store, model_id=run.id, **QUICK)


def test_a_domain_that_fails_is_recorded_as_an_error_and_the_others_are_still_scored(
        world: EvalWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "1")
    run = world.finished_run()

    def operator_turns_code_off(event: EvalProgress) -> None:
        if event.done == 0:  # planned with code on, scored with code off
            monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "0")

    report = evaluate_model(store=world.store, model_id=run.id, domains=["general", "code"], limit=2,
                            progress=operator_turns_code_off)
    assert report.score("general").status == "scored"
    for task in ("microworld_code", "hubkit_humaneval"):
        score = report.score("code", task)
        assert score.status == "error" and score.value is None and "failed" in score.reason
    assert {r.status for r in world.store.list_evaluations(model_id=run.id)} == {"scored", "error"}


def test_a_skipped_baseline_is_recorded_once_and_scored_once_code_is_enabled(
        world: EvalWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "0")
    evaluate_base(store=world.store, base_key=BASE_KEY, domains=["code"], limit=1)
    again = evaluate_base(store=world.store, base_key=BASE_KEY, domains=["code"], limit=1)
    assert all(s.cached and s.status == "skipped" for s in again.scores)
    assert len(world.store.list_evaluations(base_model=BASE_KEY)) == 2
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "1")
    enabled = evaluate_base(store=world.store, base_key=BASE_KEY, domains=["code"], limit=1)
    assert enabled.model_loads == 1 and {s.status for s in enabled.scores} == {"scored"}
