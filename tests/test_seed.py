"""Seeding: real runs with lineage and feedback, and a second seeding changes nothing."""
from __future__ import annotations

import dataclasses

import pytest

from hubkit.seed import EXAMPLES, seed
from hubkit.store import open_store


@pytest.mark.slow
def test_seeding_trains_a_fork_chain_once(standin_env):
    small = [dataclasses.replace(e, rows=40, settings={**e.settings, "num_epochs": 1})
             for e in EXAMPLES if e.key in ("sums", "sums-plus")]
    first = seed(examples=small, evaluate=False)
    assert first.trained == ["sums", "sums-plus"]
    store = open_store()
    parent, child = store.get_run(first.runs["sums"]), store.get_run(first.runs["sums-plus"])
    assert parent.training_outcome.value == "success" and parent.loss_curve_data
    assert child.parent_model_id == parent.id and child.parent_relation == "fork"
    assert child.owner == "cass" and child.visibility.value == "public"
    assert {f.username for f in store.list_feedback(parent.id)} == {"cass", "eve"}
    again = seed(examples=small, evaluate=False)
    assert again.trained == [] and again.skipped == ["sums", "sums-plus"]
    assert store.count_runs() == 2
    assert len(store.list_feedback(parent.id)) == 2
