"""Run frames: one typed row per attempt, long scores and curves, lineage."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from hubkit import research
from hubkit.errors import ConfigError
from tests.research.world import STAMP, World


def test_runs_has_one_row_per_attempt_failures_included(world: World):
    frame = research.runs(store=world.store)
    assert sorted(frame["model_id"]) == sorted(world.ids.values())
    by_name = frame.set_index("name")
    assert by_name.loc["math-diverged", "training_outcome"] == "failure"
    assert by_name.loc["math-diverged", "failure_class"] == "divergence"
    assert by_name.loc["translation-partial", "training_outcome"] == "partial"
    assert by_name.loc["math-lost", "failure_class"] == "lost"
    assert by_name.loc["math-child", "parent_model_id"] == world.ids["math-good"]
    assert by_name.loc["math-grandchild", "parent_relation"] == "continue"
    assert by_name.loc["math-child", "dataset_rows"] == 3000
    assert by_name.loc["translation-disliked", "thumbs_down"] == 2
    assert by_name.loc["math-good", "thumbs_up"] == 1
    assert by_name.loc["math-good", "owner"] == "alice"
    assert by_name.loc["translation-partial", "base_family"] == "qwen2"
    assert (by_name.loc["code-oom", "device"], by_name.loc["code-oom", "precision"]) == ("cuda", "bf16")
    assert (by_name.loc["math-good", "device"], by_name.loc["math-good", "precision"]) == ("cpu", "fp32")
    assert pd.isna(by_name.loc["math-child", "device"])  # a fork's record here names no hardware


def test_runs_flattens_config_and_scores_into_typed_columns(world: World):
    frame = research.runs(store=world.store).set_index("name")
    assert frame["config.learning_rate"].dtype == "float64"
    assert frame["config.lora.r"].dtype == "int64"
    assert frame["config.gradient_checkpointing"].dtype == bool
    assert frame.loc["math-good", "config.lora.target_modules"] == "q_proj,v_proj"
    assert frame.loc["math-diverged", "config.learning_rate"] == pytest.approx(5e-2)
    assert frame.loc["math-good", "score.math.mw_math"] == pytest.approx(0.70)
    assert frame.loc["math-good", "score.translation.mw_translation"] == pytest.approx(0.55)
    assert math.isnan(frame.loc["math-diverged", "score.math.mw_math"])
    assert str(frame["created_at"].dtype) == "datetime64[us, UTC]"
    assert frame["parent_model_id"].dtype == "Int64"
    assert frame["training_outcome"].dtype == "category"


def test_runs_scores_match_benchmark_scores_after_a_rerun(world: World):
    from tests.research.world import score

    score(world.store, model_id=world.ids["math-good"], domain="math", value=0.66)  # re-run: latest wins
    frame = research.runs(store=world.store).set_index("model_id")
    run = world.store.get_run(world.ids["math-good"])
    assert frame.loc[run.id, "score.math.mw_math"] == pytest.approx(run.benchmark_scores["math"]["mw_math"]["value"])


def test_private_runs_can_be_left_out(world: World):
    everything = research.runs(store=world.store)
    public = research.runs(store=world.store, include_private=False)
    assert world.ids["code-oom"] in set(everything["model_id"])
    assert world.ids["code-oom"] not in set(public["model_id"])
    assert len(public) == len(everything) - 1


def test_scores_long_format_with_baselines_and_deltas(world: World):
    frame = research.scores(store=world.store)
    assert {"model_id", "domain", "task", "metric", "value", "stderr", "n", "stamp_hash", "delta_base",
            "delta_parent", "executed_by", "is_baseline"} <= set(frame.columns)
    baselines = frame[frame["is_baseline"]]
    assert len(baselines) == 8 and baselines["model_id"].isna().all()
    child = frame[(frame["model_id"] == world.ids["math-child"]) & (frame["domain"] == "math")].iloc[0]
    assert child["delta_parent"] == pytest.approx(0.04)
    assert child["delta_base"] == pytest.approx(0.34)
    assert child["model_domain"] == "math" and child["n"] == 200
    from hubkit.store import stamp_hash
    assert set(frame["stamp_hash"]) == {stamp_hash(STAMP)}


def test_curves_restore_nonfinite_values_as_floats(world: World):
    frame = research.curves(store=world.store, model_ids=[world.ids["math-diverged"]])
    assert list(frame["seq"]) == list(range(8))
    last = frame.iloc[-1]
    assert math.isnan(last["loss"]) and math.isinf(last["grad_norm"])
    assert last["nonfinite"] == "grad_norm,loss"
    assert frame["nonfinite"].iloc[:-1].isna().all()
    assert frame["loss"].iloc[6] == 40.0
    everything = research.curves(store=world.store)
    assert set(everything["model_id"]) >= {world.ids["math-good"], world.ids["math-lost"]}


def test_lineage_links_models_and_datasets(world: World):
    frame = research.lineage(store=world.store).set_index("model_id")
    child = frame.loc[world.ids["math-child"]]
    assert child["parent_model_id"] == world.ids["math-good"]
    assert child["dataset_id"] == world.datasets["more"]
    assert child["dataset_parent_id"] == world.datasets["clean"]
    assert pd.isna(frame.loc[world.ids["math-good"], "parent_model_id"])


def test_an_http_store_is_refused_with_a_clear_message():
    class RemoteStore:
        url = "http://hub.example/services/hubkit"

    with pytest.raises(ConfigError, match="directly"):
        research.runs(store=RemoteStore())  # type: ignore[arg-type]
