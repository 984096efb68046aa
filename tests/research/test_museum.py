"""The Failure Museum keeps every kind of failure and classifies it."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from hubkit.research import museum
from hubkit.research.curveshape import curve_features
from tests.research.world import World


def test_every_kind_of_failure_is_an_exhibit_with_its_class(world: World):
    shown = museum.exhibits(store=world.store).set_index("name")
    expected = {
        "math-diverged": "divergence", "code-oom": "oom", "math-lost": "lost",
        "translation-partial": "time_budget", "reading-stalled": "early_stop_no_improvement",
        "reading-improved": "early_stop", "code-crashed": "exception:ValueError",
        "math-grandchild": "regression", "translation-disliked": "user_rejected",
    }
    assert {name: str(shown.loc[name, "failure_class"]) for name in expected} == expected
    assert "math-good" not in shown.index and "math-child" not in shown.index
    assert shown.loc["code-crashed", "class_family"] == "exception"
    assert shown.loc["math-grandchild", "own_z"] < -museum.NOISE_Z
    assert shown.loc["math-diverged", "why"] == "The loss blew up or became NaN/inf."
    assert all(museum.class_family(c) in museum.FAILURE_CLASSES for c in shown["failure_class"].astype(str))


@pytest.mark.parametrize(("ups", "downs", "owner_down", "rejected"), [
    (0, 1, False, False),  # one visitor's thumbs down is not a verdict
    (0, 2, False, False),  # nor are two
    (1, 2, False, True),   # a majority of three voters
    (2, 2, False, False),  # a tie is not a majority
    (5, 0, True, True),    # the owner's own thumbs down always counts
])
def test_the_rule_for_user_rejected(ups: int, downs: int, owner_down: bool, rejected: bool):
    assert museum.rejected_by_people(ups=ups, downs=downs, owner_down=owner_down) is rejected


def test_a_passing_visitors_thumbs_down_does_not_put_a_model_in_the_museum(world: World):
    store = world.store
    store.record_feedback(world.ids["math-good"], user="bob", thumbs_up=False, comment="Did not like it.")
    assert "math-good" not in set(museum.exhibits(store=store)["name"])
    store.record_feedback(world.ids["math-good"], user="carol", thumbs_up=False)
    store.record_feedback(world.ids["math-good"], user="root", thumbs_up=False)
    shown = museum.exhibits(store=store).set_index("name")
    assert shown.loc["math-good", "failure_class"] == "user_rejected"


def test_the_owners_thumbs_down_puts_a_model_in_the_museum(world: World):
    store = world.store
    store.record_feedback(world.ids["math-good"], user="alice", thumbs_up=False, comment="Mine, and wrong.")
    shown = museum.exhibits(store=store).set_index("name")
    assert shown.loc["math-good", "failure_class"] == "user_rejected"


def test_private_failures_are_kept_unless_left_out(world: World):
    assert world.ids["code-oom"] in set(museum.exhibits(store=world.store)["model_id"])
    public = museum.exhibits(store=world.store, include_private=False)
    assert world.ids["code-oom"] not in set(public["model_id"])


def test_curve_features_of_exhibits(world: World):
    shown = museum.exhibits(store=world.store).set_index("name")
    diverged = shown.loc["math-diverged"]
    assert diverged["nonfinite"] and diverged["first_nonfinite_step"] == 80
    assert diverged["spikes"] >= 1 and diverged["blowup_ratio"] == pytest.approx(40.0 / 2.5)
    stalled = shown.loc["reading-stalled"]
    assert stalled["overfitting"] and stalled["eval_rise"] > 0
    assert shown.loc["code-oom", "n_points"] == 0


def test_curve_features_on_shapes_we_know():
    rising_eval = [{"step": i, "loss": 2.0 - 0.05 * i, **({"eval_loss": 1.5 + 0.1 * max(0, i - 10)} if i % 5 == 0 else {})}
                   for i in range(40)]
    f = curve_features(rising_eval)
    assert f.overfitting and f.eval_rise == pytest.approx(2.5) and f.overfit_gap > 0
    flat = [{"step": i, "loss": 3.0 / (1 + i) if i < 10 else 0.3} for i in range(100)]
    g = curve_features(flat)
    assert g.plateau_fraction > 0.8 and g.plateau_from_step == 10
    spiky = [{"step": i, "loss": 5.0 if i in (20, 40) else 1.0} for i in range(60)]
    assert curve_features(spiky).spikes == 2
    nan = [{"step": 1, "loss": 1.0}, {"step": 2, "loss": "inf"}, {"step": 3, "loss": "nan"}]
    h = curve_features(nan)
    assert h.nonfinite and h.first_nonfinite_step == 2 and h.final_loss == 1.0
    assert not curve_features([{"step": 1, "loss": 1.0, "eval_loss": None}]).nonfinite
    assert curve_features(None).n_points == 0


def test_boundary_counts_failure_rate_by_knobs():
    runs = pd.DataFrame({
        "status": ["finished"] * 6 + ["running"],
        "training_outcome": ["failure", "failure", "success", "success", "partial", "failure", None],
        "failure_class": ["divergence", "divergence", None, None, "time_budget", "oom", None],
        "config.learning_rate": [1e-2, 5e-3, 1e-2, 2e-4, 2e-4, 2e-4, 1e-2],
        "config.lora_r": [16, 16, 16, 16, 16, 128, 16],
        "base_family": ["llama3"] * 7,
        "dataset_rows": [500] * 7,
    })
    cells = museum.boundary(runs=runs)
    first = cells.iloc[0]  # highest failure rate first
    assert (first["rank_bucket"], first["runs"], first["top_failure_class"]) == (">64", 1, "oom")
    high = cells[cells["lr_bucket"] == "≥3e-3"].iloc[0]
    assert high["rank_bucket"] == "9–16"
    assert (high["runs"], high["failures"], high["top_failure_class"]) == (3, 2, "divergence")
    assert high["failure_rate"] == pytest.approx(2 / 3)
    assert cells["runs"].sum() == 6  # the running run is not counted
    low = cells[(cells["lr_bucket"] == "1e-4–3e-4") & (cells["rank_bucket"] == "9–16")].iloc[0]
    assert (low["runs"], low["failures"], low["partials"]) == (2, 0, 1)


def test_buckets_accept_the_nested_spelling_and_missing_values():
    frame = pd.DataFrame({"config.lora.r": [4, None], "config.learning_rate": [1e-3, math.nan],
                          "dataset_rows": [50, None]})
    out = museum.add_buckets(frame)
    assert out["rank_bucket"].iloc[0] == "≤4" and pd.isna(out["rank_bucket"].iloc[1])
    assert out["lr_bucket"].iloc[0] == "1e-3–3e-3"
    assert out["size_bucket"].iloc[0] == "<100"


def test_summary_sentences_name_the_worst_and_best_cells(world: World):
    summary = museum.summarise(store=world.store, min_runs=1)
    assert summary.exhibits == 9 and summary.by_class["divergence"] == 1
    assert summary.sentences[0].startswith("Of 11 finished runs")
    assert any(s.startswith("By learning rate: ≥3e-3 failed most often (100% of 1 runs, mostly divergence)")
               for s in summary.sentences)
