import pytest

from hubkit.errors import NotFound
from hubkit.hub import Verdict, model_profile
from hubkit.store import ANONYMOUS
from tests.hub.world import XSS_NAME


def test_profile_lines_up_scores_with_base_and_parent(hub_store, world):
    p = model_profile(store=hub_store, model=world.fork.slug, viewer=ANONYMOUS)
    math = next(s for s in p.scores if s.domain == "math")
    assert (math.value, math.base_value, math.parent_value) == (0.40, 0.20, 0.32)
    assert math.base_stderr == 0.02 and math.parent_stderr == 0.02
    assert p.vs_base.verdict("math") is Verdict.better
    assert p.vs_parent is not None and p.vs_parent.sentence == (
        "Better than its parent at math (+8 points); about the same elsewhere.")
    assert [a.slug for a in p.lineage.ancestors] == [world.math_model.slug]
    assert p.parent is not None and p.parent.relation is None
    assert p.dataset is not None and p.dataset.name == "Tiny sums <b>v1</b>"


def test_profile_parts(hub_store, world):
    p = model_profile(store=hub_store, model=world.math_model.slug, viewer="bob")
    assert p.vs_base.sentence == ("Better than its base model at math (+12 points); about the same at code; "
                                  "translation slightly worse (\u22123 points).")
    assert p.vs_parent is None and p.lineage.ancestors == ()
    assert [c.slug for c in p.lineage.children] == [world.fork.slug]
    assert len(p.curve) == 20 and p.curve[4]["eval_loss"] is not None
    assert (p.feedback.up, p.feedback.down, p.feedback.mine) == (1, 1, True)
    assert {c.text for c in p.feedback.comments} == {XSS_NAME, "Needs more data."}
    assert [c.mine for c in p.feedback.comments if c.text == XSS_NAME] == [True]
    assert not p.is_owner
    assert model_profile(store=hub_store, model=world.math_model.id, viewer="alice").is_owner


def test_scores_under_another_stamp_are_not_compared(hub_store, world):
    p = model_profile(store=hub_store, model=world.xss.slug, viewer=ANONYMOUS)
    (line,) = p.scores
    assert line.value == 0.99 and line.base_value is None  # the base was scored with 0 shots, this with 5
    assert p.vs_base.verdict("math") is Verdict.unknown


def test_a_gpu_score_is_shown_with_its_device_and_never_compared_with_a_cpu_one(hub_store, world):
    from hubkit.store.records import EvaluationIn
    from hubkit.ui.cards import score_table
    from tests.hub.world import STAMP

    cpu = {**STAMP, "suite": "offline", "device": "cpu", "dtype": "float32"}
    gpu = {**cpu, "device": "cuda", "dtype": "bfloat16"}
    for stamp, kw in ((cpu, {"base_model": "llama3-standin"}), (gpu, {"model_id": world.math_model.id})):
        hub_store.record_evaluation(evaluation=EvaluationIn(domain="reading", task="microworld_reading", metric="acc",
                                                            value=0.5, stderr=0.04, n_samples=150, stamp=stamp), **kw)
    p = model_profile(store=hub_store, model=world.math_model.slug, viewer=ANONYMOUS)
    (line,) = [s for s in p.scores if s.domain == "reading"]
    assert line.value == 0.5 and line.base_value is None  # same task and settings, another device: not compared
    assert line.scored_on == "offline suite · cuda · bfloat16"
    assert "offline suite · cuda · bfloat16" in score_table(p.scores)


def test_private_models_and_ancestors_stay_hidden(hub_store, world):
    with pytest.raises(NotFound):
        model_profile(store=hub_store, model=world.private.slug, viewer=ANONYMOUS)
    with pytest.raises(NotFound):
        model_profile(store=hub_store, model=world.private.slug, viewer="alice")
    assert model_profile(store=hub_store, model=world.private.slug, viewer="bob").is_owner
    hub_store.set_visibility(world.math_model.id, "private", actor="alice")
    p = model_profile(store=hub_store, model=world.fork.slug, viewer=ANONYMOUS)
    assert p.lineage.ancestors == () and p.lineage.hidden_ancestor
    assert p.vs_parent is None


def test_failed_run_curve_keeps_non_finite_points(hub_store, world):
    p = model_profile(store=hub_store, model=world.failed.slug, viewer=ANONYMOUS)
    assert p.run.failure_class == "divergence"
    assert [pt["loss"] for pt in p.curve[6:]] == ["nan"] * 4
