"""The designed sweep: deterministic points, a held-out share by dataset, resuming without repeats."""
from __future__ import annotations

import pandas as pd
import pytest

from hubkit.research import sweep
from hubkit.store import LocalStore


def test_the_design_is_a_stable_seeded_stream():
    first = sweep.design(12)
    assert [p.key for p in sweep.design(12)] == [p.key for p in first]
    assert [p.key for p in sweep.design(20)][:12] == [p.key for p in first]  # growing keeps the first points
    assert [p.key for p in sweep.design(12, seed=7)] != [p.key for p in first]
    assert len({p.key for p in sweep.design(60)}) == 60


def test_points_cover_the_knob_ranges_and_are_valid_specs():
    from hubkit.train.spec import TrainSpec

    points = sweep.design(120)
    lrs = [p.spec["learning_rate"] for p in points]
    assert min(lrs) < 1e-4 and max(lrs) > 1.0 and all(1e-5 <= lr <= 1e2 for lr in lrs)
    assert {p.spec["base_model"] for p in points} == set(sweep.bases())
    assert {p.spec["domain"] for p in points} == set(sweep.domains())
    assert all(1 <= p.spec["lora_r"] <= 64 for p in points)
    for p in points[:20]:
        TrainSpec.parse(p.spec)
        assert p.key == sweep.point_key(p.spec)


def test_the_held_out_share_is_set_per_dataset_group():
    points = sweep.design(200)
    by_group: dict[str, set[bool]] = {}
    for p in points:
        by_group.setdefault(p.group, set()).add(p.held_out)
    assert all(len(marks) == 1 for marks in by_group.values())  # never split inside a dataset
    held = sum(1 for marks in by_group.values() if True in marks)
    assert 0 < held < len(by_group)


def _record(store: LocalStore, point: sweep.SweepPoint, *, outcome: str, failure_class: str | None = None) -> int:
    run = store.create_run(owner=sweep.OWNER, name=point.run_name, domain=point.spec["domain"],
                           base_model=point.spec["base_model"], config=point.spec, visibility="public")
    store.finish_run(run.id, outcome=outcome, failure_class=failure_class)
    return run.id


def test_resuming_skips_finished_points_and_retrains_interrupted_ones(db_url: str):
    from hubkit.catalog import base_model_records

    store = LocalStore(db_url)
    for row in base_model_records():
        store.upsert_base_model(**row)
    store.ensure_user(sweep.OWNER, role="researcher")
    points = sweep.design(4)
    _record(store, points[0], outcome="failure", failure_class="divergence")  # no adapter: nothing to score
    _record(store, points[1], outcome="failure", failure_class="lost")  # the sweep was killed: train again
    left = sweep.pending(store=store, n=4)
    assert [p.key for p in left] == [p.key for p in points[1:]]
    _record(store, points[1], outcome="failure", failure_class="divergence")
    assert [p.key for p in sweep.pending(store=store, n=4)] == [p.key for p in points[2:]]
    states = sweep.point_states(store, points, eval_limit=sweep.DEFAULT_EVAL_LIMIT)
    assert states[points[1].key].trained and states[points[1].key].finished


@pytest.mark.slow
def test_a_slice_of_the_committed_sweep_reproduces(standin_env, settings, monkeypatch):
    """Two committed points (a success and a failure) trained and scored again give the same record."""
    import math

    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "true")  # the sweep scores code, in the sandbox
    from hubkit.catalog import RECIPE_VERSION, base_model_records
    from hubkit.research.advisor import load_sweep
    from hubkit.research.advisor.table import sweep_table

    committed = load_sweep()
    if (committed["standin_recipe"] != RECIPE_VERSION).any():
        pytest.skip("the committed sweep was made with other stand-ins: regenerate it with `hubkit research sweep`")
    store = LocalStore(settings.database_url)
    for row in base_model_records():
        store.upsert_base_model(**row)
    cheap = committed.sort_values("max_steps")
    chosen = pd.concat([cheap[cheap["outcome"] == "success"].head(1), cheap[cheap["outcome"] == "failure"].head(1)])
    points = [sweep.draw(int(r.design_index), seed=int(r.design_seed)) for r in chosen.itertuples()]
    assert [p.key for p in points] == chosen["key"].tolist()  # the design still draws the committed points
    limit = int(chosen["eval_limit"].iloc[0])
    sweep.run_points(points=points, store=store, eval_limit=limit)
    again = sweep_table(store=store).set_index("key")
    one_item = 100 / limit
    for r in chosen.itertuples():
        new = again.loc[r.key]
        assert (new["outcome"], new["failure_class"]) == (r.outcome, r.failure_class)
        assert new["final_loss"] == pytest.approx(r.final_loss, rel=0.02)
        for column in [c for c in committed.columns if c.startswith("score.")]:
            old = committed.loc[committed["key"] == r.key, column].iloc[0]
            if isinstance(old, float) and math.isnan(old):
                continue
            assert abs(new[column] - old) <= one_item + 1e-9, column
