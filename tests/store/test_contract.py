"""The Store contract: every implementation keeps the same invariants."""
from __future__ import annotations

import math

import pytest

from hubkit.errors import Conflict, NotFound, PermissionDenied, ValidationError
from hubkit.store import stamp_hash
from hubkit.store.records import EvaluationIn


def _run(store, owner="alice", **kw):
    args = dict(owner=owner, name="math helper", domain="math", base_model="llama3-standin",
                config={"lr": 1e-3, "r": 8}, seed=1)
    args.update(kw)
    return store.create_run(**args)


def test_new_run_is_running_with_no_outcome_and_no_parent(store):
    run = _run(store)
    assert run.status.value == "running"
    assert run.training_outcome is None
    assert run.parent_model_id is None
    assert run.loss_curve_data is None
    assert run.benchmark_scores == {}
    assert run.owner == "alice" and run.base_model_key == "llama3-standin"


def test_points_stream_and_curve_is_materialised_on_finish(store):
    run = _run(store)
    store.append_points(run.id, [{"step": 1, "loss": 2.0, "lr": 1e-3, "grad_norm": 1.0, "epoch": 0.1}])
    store.append_points(run.id, [{"step": 2, "loss": 1.5, "lr": 1e-3, "grad_norm": 0.9, "epoch": 0.2},
                                 {"step": 2, "eval_loss": 1.7, "epoch": 0.2}])
    assert [p["step"] for p in store.loss_points(run.id)] == [1, 2, 2]
    done = store.finish_run(run.id, outcome="success")
    assert done.training_outcome.value == "success"
    assert [p["loss"] for p in done.loss_curve_data] == [2.0, 1.5, None]
    assert done.loss_curve_data[2]["eval_loss"] == 1.7
    assert done.duration_s is not None and done.finished_at is not None


def test_non_finite_losses_are_kept_in_json_safe_form(store):
    run = _run(store)
    store.append_points(run.id, [{"step": 1, "loss": 3.0}, {"step": 2, "loss": math.inf},
                                 {"step": 3, "loss": math.nan, "grad_norm": -math.inf}])
    done = store.finish_run(run.id, outcome="failure", failure_class="divergence")
    assert [p["loss"] for p in done.loss_curve_data] == [3.0, "inf", "nan"]
    assert done.loss_curve_data[2]["grad_norm"] == "-inf"
    assert done.failure_class == "divergence"


def test_outcome_is_set_once_and_nothing_changes(store):
    run = _run(store)
    store.finish_run(run.id, outcome="partial", failure_class="cancelled")
    with pytest.raises(Conflict):
        store.finish_run(run.id, outcome="success")
    with pytest.raises(Conflict):
        store.append_points(run.id, [{"step": 9, "loss": 1.0}])
    again = store.get_run(run.id)
    assert again.training_outcome.value == "partial" and again.failure_class == "cancelled"
    assert again.loss_curve_data == []


def test_fork_sets_parent_and_records_event(store):
    parent = _run(store)
    store.finish_run(parent.id, outcome="success")
    store.set_visibility(parent.id, "public", actor="alice")
    child = store.fork_run(parent.id, owner="bob", name="bob's fork")
    assert child.parent_model_id == parent.id and child.parent_relation == "fork"
    assert child.base_model_id == parent.base_model_id
    assert [e.kind for e in store.list_events(child.id)] == ["fork"]
    assert [c.id for c in store.children(parent.id)] == [child.id]


def test_forking_another_users_private_model_is_refused_as_not_found(store):
    parent = _run(store)
    store.finish_run(parent.id, outcome="success")
    before = len(store.list_runs())
    with pytest.raises(NotFound):
        store.fork_run(parent.id, owner="bob", name="sneaky")
    assert len(store.list_runs()) == before


def test_unknown_parent_and_unknown_base_are_typed_errors(store):
    before = len(store.list_runs())
    with pytest.raises(NotFound):
        store.fork_run(999_999, owner="alice", name="orphan")
    with pytest.raises(NotFound):
        _run(store, base_model="no-such-base")
    assert len(store.list_runs()) == before


def test_private_models_are_invisible_to_others(store):
    run = _run(store)
    with pytest.raises(NotFound):
        store.get_run(run.id, viewer="bob")
    with pytest.raises(NotFound):
        store.get_run(run.id, viewer="")
    assert store.get_run(run.id, viewer="alice").id == run.id
    assert store.get_run(run.id, viewer="root").id == run.id
    assert run.id not in [r.id for r in store.list_runs(viewer="bob")]
    store.set_visibility(run.id, "public", actor="alice")
    assert store.get_run(run.slug, viewer="").id == run.id


def test_only_the_owner_changes_visibility(store):
    run = _run(store)
    store.set_visibility(run.id, "unlisted", actor="alice")
    with pytest.raises(PermissionDenied):
        store.set_visibility(run.id, "public", actor="bob")
    assert store.get_run(run.id).visibility.value == "unlisted"


@pytest.mark.parametrize("name", [
    "'; DROP TABLE models; --", "<script>alert(1)</script>", "🦙 llama 🚀", "Robert'); --",
])
def test_awkward_names_are_stored_verbatim(store, name):
    run = _run(store, name=name)
    assert store.get_run(run.id).name == name
    assert store.list_runs(search=name[:5])


@pytest.mark.parametrize("bad", [
    dict(name="x" * 10_000), dict(name=""), dict(name="tab\x00nul"), dict(visibility="secret"),
    dict(config={"blob": "x" * 400_000}), dict(config={"obj": object()}), dict(executed_by="robot"),
])
def test_bad_run_input_is_rejected_and_nothing_is_written(store, bad):
    before = len(store.list_runs())
    with pytest.raises(ValidationError):
        _run(store, **bad)
    assert len(store.list_runs()) == before


def test_non_finite_numbers_in_config_are_encoded(store):
    run = _run(store, config={"lr": math.nan, "clip": math.inf})
    assert store.get_run(run.id).config == {"lr": "nan", "clip": "inf"}


def test_evaluations_summarise_into_benchmark_scores_with_deltas(store):
    stamp = {"harness": "0.4.13", "task_version": 1, "shots": 0}
    ev = lambda v: EvaluationIn(domain="math", task="mw_math", metric="exact_match", value=v,  # noqa: E731
                                stderr=0.02, n_samples=200, stamp=stamp)
    store.record_evaluation(evaluation=ev(0.30), base_model="llama3-standin")
    parent = _run(store)
    store.finish_run(parent.id, outcome="success")
    store.record_evaluation(evaluation=ev(0.40), model_id=parent.id)
    child = store.fork_run(parent.id, owner="alice", name="child", relation="continue")
    store.finish_run(child.id, outcome="success")
    rec = store.record_evaluation(evaluation=ev(0.55), model_id=child.id)
    assert rec.delta_base == pytest.approx(0.25) and rec.delta_parent == pytest.approx(0.15)
    scores = store.get_run(child.id).benchmark_scores
    assert scores["math"]["mw_math"]["value"] == 0.55
    assert scores["math"]["mw_math"]["stderr"] == 0.02
    assert scores["math"]["mw_math"]["n"] == 200
    # never pruned: a second domain adds, it does not replace
    store.record_evaluation(evaluation=EvaluationIn(domain="code", task="mw_code", metric="pass@1", status="skipped",
                                                    skip_reason="code execution is off", stamp=stamp), model_id=child.id)
    scores = store.get_run(child.id).benchmark_scores
    assert set(scores) == {"math", "code"} and scores["code"]["mw_code"]["status"] == "skipped"
    assert store.get_base_model("llama3-standin").benchmark_scores["math"]["mw_math"]["value"] == 0.30


def test_a_run_that_ends_with_an_adapter_asks_the_platform_for_its_scores_once(store):
    partial, bare = _run(store), _run(store, name="bare")
    store.finish_run(partial.id, outcome="partial", failure_class="cancelled", artifacts={"adapter": "a" * 64})
    store.finish_run(bare.id, outcome="failure", failure_class="divergence")
    assert [e.kind for e in store.list_events(partial.id)].count("evaluation_queued") == 1
    assert "evaluation_queued" not in [e.kind for e in store.list_events(bare.id)]  # nothing to score


def test_leaderboard_ranks_public_platform_scores_under_one_stamp(store):
    stamp = {"harness": "0.4.13", "shots": 0}
    other_stamp = {"harness": "0.4.13", "shots": 5}
    values = [0.2, 0.9, 0.5, 0.7]
    ids = []
    for i, value in enumerate(values):
        run = _run(store, name=f"m{i}")
        store.finish_run(run.id, outcome="success")
        if i != 3:
            store.set_visibility(run.id, "public", actor="alice")
        store.record_evaluation(evaluation=EvaluationIn(domain="math", task="mw_math", metric="acc", value=value,
                                                        stderr=0.01, n_samples=100, stamp=stamp), model_id=run.id)
        ids.append(run.id)
    store.record_evaluation(evaluation=EvaluationIn(domain="math", task="mw_math", metric="acc", value=0.99,
                                                    stamp=other_stamp), model_id=ids[0])
    board = store.leaderboard(domain="math", task="mw_math")
    assert [r.value for r in board] == [0.9, 0.5, 0.2]  # private m3 absent; other stamp not mixed in
    assert [r.rank for r in board] == [1, 2, 3]
    assert board[0].owner == "alice" and board[0].base_family == "llama3"
    assert len(store.leaderboard(domain="math", task="mw_math", limit=2)) == 2


def test_a_board_left_to_choose_takes_the_stamp_most_scores_are_current_under(store):
    """The choice follows re-scoring: a superseded score, or one superseded by a skip, stops counting,
    and a user's own run never counts. Stamp b's hash sorts first, so b wins a tie."""
    a, b = {"harness": "0.4.13", "device": "cpu"}, {"harness": "0.4.13", "device": "cuda"}
    assert stamp_hash(b) < stamp_hash(a)

    def score(run_id: int, stamp: dict, value: float | None, executed_by: str = "platform", **kw: str) -> None:
        store.record_evaluation(evaluation=EvaluationIn(domain="math", task="mw_math", metric="acc", value=value,
                                                        stamp=stamp, **kw), model_id=run_id, executed_by=executed_by)

    ids = []
    for i in range(3):
        run = _run(store, name=f"m{i}")
        store.finish_run(run.id, outcome="success")
        store.set_visibility(run.id, "public", actor="alice")
        ids.append(run.id)
    score(ids[0], a, 0.1)
    score(ids[1], a, 0.2)
    score(ids[2], b, 0.3)
    score(ids[2], b, 0.4)  # re-scored: one current score under b, not two
    assert [r.value for r in store.leaderboard(domain="math", task="mw_math")] == [0.2, 0.1]
    score(ids[0], a, None, status="skipped", skip_reason="no data")  # one current score under each: b
    assert [r.value for r in store.leaderboard(domain="math")] == [0.4]
    score(ids[0], a, 0.5, executed_by="user")
    assert [r.value for r in store.leaderboard(domain="math", task="mw_math")] == [0.4]
    # a stamp naming no suite is an offline one, whether the board chose it or was given it
    assert [r.value for r in store.leaderboard(domain="math", stamp_hash=stamp_hash(a), suite="offline")] == [0.2]
    assert store.leaderboard(domain="math", task="mw_math", stamp_hash=stamp_hash(a), suite="standard") == []


def test_a_suite_board_ranks_only_that_suites_tasks(store):
    """GSM8K (standard) has more scores than the offline math task; each suite's board keeps to its own."""
    for i in range(3):
        run = _run(store, name=f"s{i}")
        store.finish_run(run.id, outcome="success")
        store.set_visibility(run.id, "public", actor="alice")
        store.record_evaluation(evaluation=EvaluationIn(domain="math", task="gsm8k", metric="exact_match",
                                                        value=0.1 * i, stamp={"suite": "standard"}), model_id=run.id)
        if i == 0:
            store.record_evaluation(evaluation=EvaluationIn(domain="math", task="microworld_math", metric="exact_match",
                                                            value=0.8, stamp={"suite": "offline"}), model_id=run.id)
    assert {r.task for r in store.leaderboard(domain="math")} == {"gsm8k"}  # the most scored task
    offline = store.leaderboard(domain="math", suite="offline")
    assert [(r.task, r.value) for r in offline] == [("microworld_math", 0.8)]
    assert [r.task for r in store.leaderboard(domain="math", suite="standard")] == ["gsm8k"] * 3
    assert store.leaderboard(domain="math", task="gsm8k", suite="offline") == []
    with pytest.raises(NotFound, match="no evaluation suite called 'nightly'"):
        store.leaderboard(domain="math", suite="nightly")


def test_a_task_in_both_suites_has_a_board_and_stamps_per_suite(store):
    """HumanEval sits in both suites: the stamp, not the task, says which board a score is on; a stamp
    from before stamps named their suite counts as offline."""
    values = {"offline": 0.2, "standard": 0.7, None: 0.4}
    for i, (suite, value) in enumerate(values.items()):
        run = _run(store, name=f"h{i}")
        store.finish_run(run.id, outcome="success")
        store.set_visibility(run.id, "public", actor="alice")
        stamp = {"limit": None} if suite is None else {"suite": suite}
        store.record_evaluation(evaluation=EvaluationIn(domain="code", task="hubkit_humaneval", metric="pass_at_1",
                                                        value=value, stamp=stamp), model_id=run.id)
    offline = store.leaderboard_stamps(domain="code", task="hubkit_humaneval", suite="offline")
    standard = store.leaderboard_stamps(domain="code", task="hubkit_humaneval", suite="standard")
    assert len(offline) == 2 and len(standard) == 1 and not {h for h, _ in offline} & {h for h, _ in standard}
    assert len(store.leaderboard_stamps(domain="code", task="hubkit_humaneval")) == 3
    assert [r.value for r in store.leaderboard(domain="code", task="hubkit_humaneval", suite="standard")] == [0.7]
    assert [r.value for r in store.leaderboard(domain="code", task="hubkit_humaneval", suite="offline",
                                               stamp_hash=offline[0][0])] in ([0.2], [0.4])


def test_user_scored_evaluations_never_reach_the_leaderboard(store):
    run = _run(store)
    store.finish_run(run.id, outcome="success")
    store.set_visibility(run.id, "public", actor="alice")
    store.record_evaluation(evaluation=EvaluationIn(domain="math", task="mw_math", metric="acc", value=1.0),
                            model_id=run.id, executed_by="user")
    assert store.leaderboard(domain="math", task="mw_math") == []


def test_feedback_is_one_per_user_and_updates(store):
    run = _run(store)
    store.set_visibility(run.id, "public", actor="alice")
    store.record_feedback(run.id, user="bob", thumbs_up=False, comment="meh")
    store.record_feedback(run.id, user="bob", thumbs_up=True, comment="better after all")
    fb = store.list_feedback(run.id)
    assert len(fb) == 1 and fb[0].thumbs_up is True and fb[0].comment == "better after all"


def test_artifacts_are_added_never_overwritten(store):
    run = _run(store)
    store.finish_run(run.id, outcome="success", artifacts={"adapter": "a" * 64})
    store.add_artifacts(run.id, {"merged": "b" * 64})
    with pytest.raises(Conflict):
        store.add_artifacts(run.id, {"adapter": "c" * 64})
    assert store.get_run(run.id).artifacts == {"adapter": "a" * 64, "merged": "b" * 64}


def test_reaper_marks_stale_runs_lost_and_keeps_their_curve(store):
    run = _run(store)
    store.append_points(run.id, [{"step": s, "loss": 1.0 / s} for s in range(1, 6)])
    assert store.reap(stale_after_s=3600) == []
    assert store.reap(stale_after_s=0) == [run.id]
    lost = store.get_run(run.id)
    assert lost.training_outcome.value == "failure" and lost.failure_class == "lost"
    assert [p["step"] for p in lost.loss_curve_data] == [1, 2, 3, 4, 5]
    assert store.reap(stale_after_s=0) == []


def test_jobs_move_forward_and_final_states_stick(store):
    job = store.create_job(owner="alice", kind="train", notebook="notebooks/train.ipynb", parameters={"lr": 0.1})
    assert job.state.value == "queued"
    store.update_job(job.id, state="running", external_id="pid-1")
    done = store.update_job(job.id, state="succeeded")
    assert done.finished_at is not None and done.started_at is not None
    with pytest.raises(Conflict):
        store.update_job(job.id, state="running")


def test_datasets_are_deduplicated_per_owner_and_taintable(store):
    fp = "ab" * 32
    d1 = store.register_dataset(owner="alice", name="sums", fingerprint=fp, format="instruction", n_rows=10,
                                item_hashes=["1" * 64, "2" * 64])
    d2 = store.register_dataset(owner="alice", name="sums again", fingerprint=fp, format="instruction", n_rows=10)
    assert d1.id == d2.id
    assert store.dataset_item_hashes(d1.id) == {"1" * 64, "2" * 64}
    with pytest.raises(ValidationError):
        store.register_dataset(owner="alice", name="bad", fingerprint="nothex", format="text", n_rows=1)
    assert store.taint_dataset(d1.id, reason="licence unclear").tainted == "licence unclear"


def test_a_private_dataset_is_hidden_from_others_wherever_its_id_is_passed(store):
    mine = store.register_dataset(owner="alice", name="mine", fingerprint="cd" * 32, format="text", n_rows=3)
    shared = store.register_dataset(owner=None, name="example", fingerprint="ef" * 32, format="text", n_rows=3)
    store.ensure_user("rhea", role="researcher")
    assert store.get_dataset(mine.id, viewer="alice").id == mine.id
    assert store.get_dataset(mine.id, viewer="rhea").id == mine.id  # researchers read every dataset
    assert store.get_dataset(shared.id, viewer="bob").id == shared.id
    assert [d.id for d in store.list_datasets(viewer="bob")] == [shared.id]
    with pytest.raises(NotFound, match=f"no dataset {mine.id}"):
        store.get_dataset(mine.id, viewer="bob")
    with pytest.raises(NotFound, match=f"no dataset {mine.id}"):  # no fingerprint leaks into bob's run
        _run(store, owner="bob", dataset_id=mine.id)
    with pytest.raises(NotFound, match=f"no dataset {mine.id}"):
        store.register_dataset(owner="bob", name="derived", fingerprint="12" * 32, format="text", n_rows=1,
                               parent_dataset_id=mine.id)
    with pytest.raises(NotFound, match=f"no dataset {mine.id}"):
        store.taint_dataset(mine.id, reason="mine now", actor="bob")
    with pytest.raises(PermissionDenied):  # shared, so visible, but not bob's to taint
        store.taint_dataset(shared.id, reason="spam", actor="bob")
    parent = _run(store, dataset_id=mine.id)
    store.set_visibility(parent.id, "public", actor="alice")
    with pytest.raises(NotFound, match=f"no dataset {mine.id}"):
        store.fork_run(parent.id, owner="bob", name="fork", dataset_id=mine.id)
    fork = store.fork_run(parent.id, owner="bob", name="fork")  # the parent's data, as its record says
    assert (fork.dataset_id, fork.dataset_fingerprint) == (mine.id, parent.dataset_fingerprint)
    assert store.list_runs(viewer="bob", owner="bob")[0].id == fork.id


def test_leaderboard_pages_both_ways_and_counts_only_what_it_ranks(store):
    stamp = {"harness": "0.4.13"}
    for i, value in enumerate([0.1, 0.4, 0.3]):
        run = _run(store, name=f"b{i}")
        store.finish_run(run.id, outcome="success")
        store.set_visibility(run.id, "public" if i < 2 else "private", actor="alice")
        store.record_evaluation(evaluation=EvaluationIn(domain="math", task="t", metric="acc", value=value,
                                                        stamp=stamp), model_id=run.id)
    assert [r.value for r in store.leaderboard(domain="math", task="t", ascending=True)] == [0.1, 0.4]
    assert store.leaderboard_stamps(domain="math", task="t")[0][1] == 2
    assert store.leaderboard_stamps(domain="math", task="t", base_family="qwen2.5") == []


def test_list_runs_filters_orders_counts_and_summarises(store):
    store.upsert_base_model(key="qwen-standin", family="qwen2.5", hf_id="Qwen/Qwen2.5-0.5B",
                            architecture="Qwen2ForCausalLM", licence="apache-2.0", is_standin=True)
    a = _run(store, name="first")
    b = _run(store, name="second", base_model="qwen-standin")
    assert [r.id for r in store.list_runs(order="oldest")] == [a.id, b.id]
    assert [r.id for r in store.list_runs(base_family="qwen2.5")] == [b.id]
    assert store.count_runs(base_family="llama3") == 1 and store.count_runs() == 2
    assert store.count_runs(viewer="bob") == 0
    brief = store.list_runs(summary=True)
    assert all(r.loss_curve_data is None and r.config == {} for r in brief)
    assert store.get_run(a.id).config == {"lr": 1e-3, "r": 8}


def test_feedback_names_its_author(store):
    run = _run(store)
    store.record_feedback(run.id, user="alice", thumbs_up=True)
    assert store.list_feedback(run.id)[0].username == "alice"


def test_a_queued_job_is_claimed_once_and_knows_its_owner(store):
    job = store.create_job(owner="alice", kind="train", notebook="n.ipynb", parameters={})
    assert job.owner == "alice"
    assert [store.claim_job(job.id) for _ in range(2)] == [True, False]
    assert store.get_job(job.id).state.value == "running"


def test_notebook_runs_record_reruns(store):
    first = store.record_notebook_run(notebook="n.ipynb", parameters={"seed": 1}, archive_hash="a" * 64, succeeded=True)
    again = store.record_notebook_run(notebook="n.ipynb", parameters={"seed": 1}, archive_hash="b" * 64,
                                      succeeded=True, rerun_of=first.id)
    assert [r.id for r in store.list_notebook_runs(rerun_of=first.id)] == [again.id]
    assert [r.id for r in store.list_notebook_runs(archive_hash="a" * 64)] == [first.id]
    assert store.get_notebook_run(first.id).archive_hash == "a" * 64


def test_a_scored_evaluation_needs_a_value():
    with pytest.raises(Exception, match="needs a value"):
        EvaluationIn(domain="math", task="t", metric="acc", value=None)


def test_capability_flags_are_replaced_per_run_and_in_bulk(store):
    from hubkit.store.records import CapabilityFlagIn

    a, b = _run(store, name="a"), _run(store, name="b")
    flag = CapabilityFlagIn(domain="translation", task="t", reference="base", delta=0.1, z=3.0,
                            p_value=0.001, q_value=0.004, sentence="rose")
    store.replace_capability_flags(a.id, [flag])
    store.replace_capability_flags_many({a.id: [], b.id: [flag, flag.model_copy(update={"task": "u"})]})
    assert store.list_capability_flags(a.id) == []
    assert sorted(f.task for f in store.list_capability_flags(b.id)) == ["t", "u"]
